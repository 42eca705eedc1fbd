using System.Diagnostics;
using System.Text.Json;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// The real systemd-sysupdate 254 (from bookworm-backports) that scripts/install-test-prereqs.sh unpacks into
/// tools/systemd: the client of the tests that do not run the whole matrix. A missing binary fails the test.
/// </summary>
internal static class SysupdateTool
{
    private static readonly string Unpacked = Path.Combine(RepoPaths.Tools, "systemd");

    public static string Binary => Path.Combine(Unpacked, "lib", "systemd", "systemd-sysupdate");

    public static string Pull => Path.Combine(Unpacked, "lib", "systemd", "systemd-pull");

    public static string LibraryDirectory => Path.Combine(Unpacked, "usr", "lib", "x86_64-linux-gnu", "systemd");

    public static Task<ProcessRun> RunAsync(string definitions, params string[] arguments) =>
        SysupdateClient.Bookworm.RunAsync(definitions, keyring: null, arguments);

    public static Task<ProcessRun> RunWithKeyringAsync(string definitions, string? keyring, params string[] arguments) =>
        SysupdateClient.Bookworm.RunAsync(definitions, keyring, arguments);

    public static Task<Dictionary<string, string>> ListAsync(string definitions, string? keyring = null) =>
        SysupdateClient.Bookworm.ListAsync(definitions, keyring);
}

/// <summary>
/// One systemd-sysupdate the end-to-end tests run (docs/clients.md): 254 unpacked into tools/systemd, or the one of
/// a Debian chroot that scripts/systemd-chroot.sh built (257 from trixie; the newest from
/// <c>SYSEXT_NEWEST_SUITE</c>, default testing), entered through <c>systemd-chroot.sh run</c> in a private mount
/// namespace. Nothing is skipped: a missing client fails the test, naming the script that makes it.
/// </summary>
internal sealed class SysupdateClient
{
    /// <summary>The names a <c>[Theory]</c> passes to <see cref="Get"/>.</summary>
    public const string V254 = "254", V257 = "257", Newest = "newest";

    private static readonly string ChrootScript = Path.Combine(RepoPaths.Root, "scripts", "systemd-chroot.sh");

    private readonly string? _suite;
    private int? _major;

    private SysupdateClient(string name, string? suite)
    {
        Name = name;
        _suite = suite;
    }

    public static SysupdateClient Bookworm { get; } = new(V254, null);

    private static SysupdateClient Trixie { get; } = new(V257, "trixie");

    private static SysupdateClient NewestClient { get; } = new(Newest, NewestSuite);

    /// <summary>The Debian suite of the newest client (and of oras): <c>SYSEXT_NEWEST_SUITE</c>, default testing.</summary>
    public static string NewestSuite =>
        Environment.GetEnvironmentVariable("SYSEXT_NEWEST_SUITE") is { Length: > 0 } suite ? suite : "testing";

    public string Name { get; }

    public static SysupdateClient Get(string name) => name switch
    {
        V254 => Bookworm,
        V257 => Trixie,
        Newest => NewestClient,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such client"),
    };

    public override string ToString() => _suite is null ? Name : $"{Name} ({_suite})";

    /// <summary>
    /// Runs sysupdate with the given transfer definitions. No <c>--root</c>: with it, systemd 254 resolves an
    /// absolute CurrentSymlink= through the existing link and overwrites the previous version's file on the
    /// second update, so the definitions use absolute paths inside the test's temp folder instead (which a chroot
    /// client sees bind-mounted at the same path). With a <paramref name="keyring"/>, sysupdate runs where
    /// <c>/etc/systemd/import-pubring.gpg</c> is that keyring, the only place systemd-pull reads one from: a private
    /// mount namespace with a tmpfs over /etc/systemd keeps the machine's (and the chroot's) /etc untouched.
    /// </summary>
    public Task<ProcessRun> RunAsync(string definitions, string? keyring, params string[] arguments) =>
        RunCoreAsync(Path.GetDirectoryName(definitions)!, keyring, [$"--definitions={definitions}", .. arguments]);

    /// <summary>
    /// Runs sysupdate on a machine root (<c>--root=</c>), as the fleet tests do (<see cref="Fleet"/>): its
    /// <c>/etc/machine-id</c> and <c>/etc/os-release</c> fill <c>%m</c>, <c>%o</c>, <c>%w</c> in <c>Path=</c>, its
    /// <c>/etc/sysupdate.d</c> holds the definitions (262 refuses <c>--definitions</c> together with <c>--root</c>),
    /// and target paths resolve inside it. A chroot client sees <paramref name="bind"/> (a folder holding the root)
    /// bind-mounted at the same path. The keyring stays outside the root: systemd-pull, which checks signatures,
    /// knows nothing of <c>--root</c> and reads only the running system's <c>/etc/systemd/import-pubring.gpg</c>.
    /// A fleet makes a hundred runs where a test makes two, so 254's stall (below) is given up on sooner (a run
    /// takes well under a second) and retried twice.
    /// </summary>
    public Task<ProcessRun> RunInRootAsync(string root, string bind, string? keyring, params string[] arguments) =>
        RunCoreAsync(bind, keyring, [$"--root={root}", .. arguments], TimeSpan.FromSeconds(20), retries: 2);

    private async Task<ProcessRun> RunCoreAsync(string bind, string? keyring, string[] arguments, TimeSpan? stall = null, int retries = 1)
    {
        var start = _suite is null ? Unpacked254(keyring) : Chroot(_suite, bind, keyring);
        start.ArgumentList.Add(arguments[0]);
        start.ArgumentList.Add("--no-pager");
        foreach (var argument in arguments.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SYSTEMD_COLORS"] = "0";
        start.Environment["SYSTEMD_LOG_LEVEL"] = "info";
        if (_suite is not null)
        {
            return await ChildProcess.RunAsync(start, TimeSpan.FromMinutes(2));
        }

        // systemd-pull 254 (with bookworm's libcurl 7.88) now and then never notices that the second of two small
        // concurrent downloads (SHA256SUMS and its .gpg) finished: it logs "Downloading 287B for …SHA256SUMS.gpg"
        // and waits forever, in about one full run in three, and never with 257 or 262 on the same server. A real
        // machine's timer runs it again; so does this, once, and a second hang still fails the test.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await ChildProcess.RunAsync(start, stall ?? TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException stalled) when (attempt < retries)
            {
                Console.Error.WriteLine($"systemd-sysupdate 254 stalled, running it once more: {stalled.Message}");
            }
        }
    }

    /// <summary>
    /// <c>list --json=short</c>: version → assessment, in 254's words (<c>current</c>, <c>candidate</c>,
    /// <c>available</c>, <c>installed</c>). 254 prints that table as a JSON array; 257 and later print
    /// <c>{"current": …, "all": […]}</c> and the flags of one version with <c>list VERSION</c>, from which the same
    /// words are derived.
    /// </summary>
    public async Task<Dictionary<string, string>> ListAsync(string definitions, string? keyring = null)
    {
        var run = await RunAsync(definitions, keyring, "--json=short", "list");
        Assert.True(run.ExitCode == 0, $"{this}: {run}");
        using var json = JsonDocument.Parse(run.Stdout);
        if (json.RootElement.ValueKind == JsonValueKind.Array)
        {
            return json.RootElement.EnumerateArray().ToDictionary(
                e => e.GetProperty("version").GetString()!,
                e => e.GetProperty("assessment").GetString()!);
        }

        var current = json.RootElement.GetProperty("current").GetString();
        var listed = new Dictionary<string, string>();
        foreach (var version in json.RootElement.GetProperty("all").EnumerateArray().Select(v => v.GetString()!))
        {
            var one = await RunAsync(definitions, keyring, "--json=short", "list", version);
            Assert.True(one.ExitCode == 0, $"{this}: {one}");
            using var flags = JsonDocument.Parse(one.Stdout);
            bool Flag(string name) => flags.RootElement.GetProperty(name).GetBoolean();
            listed[version] = version == current ? "current"
                : Flag("installed") ? "installed"
                : Flag("newest") && Flag("available") ? "candidate"
                : Flag("available") ? "available"
                : "unknown";
        }

        return listed;
    }

    /// <summary>The major version, from <c>--version</c> (<c>systemd 262 (262-1)</c>).</summary>
    public async Task<int> MajorVersionAsync()
    {
        if (_major is { } known)
        {
            return known;
        }

        var start = _suite is null ? Unpacked254(null) : Chroot(_suite, null, null);
        start.ArgumentList.Add("--version");
        var run = await ChildProcess.RunAsync(start, TimeSpan.FromMinutes(1));
        var words = run.Stdout.Split(' ', 3);
        Assert.True(run.ExitCode == 0 && words is ["systemd", _, ..] && int.TryParse(words[1], out _), $"{this} --version: {run}");
        return (_major = int.Parse(words[1], System.Globalization.CultureInfo.InvariantCulture)).Value;
    }

    private static ProcessStartInfo Unpacked254(string? keyring)
    {
        var (binary, pull) = (SysupdateTool.Binary, SysupdateTool.Pull);
        ChildProcess.Require(binary, pull);
        var start = new ProcessStartInfo(keyring is null ? binary : "/usr/bin/unshare");
        if (keyring is not null)
        {
            foreach (var argument in (string[])["--mount", "--propagation", "private", "/bin/sh", "-c",
                "mount -t tmpfs tmpfs /etc/systemd && cp \"$0\" /etc/systemd/import-pubring.gpg && exec \"$@\"", keyring, binary])
            {
                start.ArgumentList.Add(argument);
            }
        }

        start.Environment["LD_LIBRARY_PATH"] = SysupdateTool.LibraryDirectory;
        start.Environment["SYSTEMD_PULL_PATH"] = pull;
        return start;
    }

    private static ProcessStartInfo Chroot(string suite, string? bind, string? keyring)
    {
        var root = Path.Combine(Environment.GetEnvironmentVariable("SYSEXT_CACHE") is { Length: > 0 } cache ? cache : "/var/cache/sysext-functions", "chroots", suite);
        if (!File.Exists(Path.Combine(root, ".complete")))
        {
            throw new InvalidOperationException($"no {suite} chroot at {root}: run scripts/install-test-prereqs.sh (or scripts/systemd-chroot.sh {suite})");
        }

        var start = new ProcessStartInfo(ChrootScript);
        foreach (var argument in (string[])["run", suite])
        {
            start.ArgumentList.Add(argument);
        }

        if (bind is not null)
        {
            start.ArgumentList.Add("--bind");
            start.ArgumentList.Add(bind);
        }

        if (keyring is not null)
        {
            start.ArgumentList.Add("--keyring");
            start.ArgumentList.Add(keyring);
        }

        start.ArgumentList.Add("--");
        start.ArgumentList.Add("/usr/lib/systemd/systemd-sysupdate");
        return start;
    }
}
