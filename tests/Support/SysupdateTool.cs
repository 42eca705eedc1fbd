using System.Diagnostics;
using System.Text.Json;

namespace SysextFunctions.Tests.Infrastructure;

/// <summary>
/// The real systemd-sysupdate (254, from bookworm-backports) that scripts/install-test-prereqs.sh unpacks into
/// tools/systemd. A missing binary fails the test.
/// </summary>
internal static class SysupdateTool
{
    private static readonly string Unpacked = Path.Combine(RepoPaths.Tools, "systemd");

    public static string Binary => Path.Combine(Unpacked, "lib", "systemd", "systemd-sysupdate");

    public static string Pull => Path.Combine(Unpacked, "lib", "systemd", "systemd-pull");

    public static string LibraryDirectory => Path.Combine(Unpacked, "usr", "lib", "x86_64-linux-gnu", "systemd");

    /// <summary>
    /// Runs sysupdate with the given transfer definitions. No <c>--root</c>: with it, systemd 254 resolves an
    /// absolute CurrentSymlink= through the existing link and overwrites the previous version's file on the
    /// second update, so the definitions use absolute paths inside the test's temp folder instead.
    /// </summary>
    public static Task<ProcessRun> RunAsync(string definitions, params string[] arguments) =>
        RunWithKeyringAsync(definitions, keyring: null, arguments);

    /// <summary>
    /// With a <paramref name="keyring"/>: runs sysupdate where <c>/etc/systemd/import-pubring.gpg</c> is that
    /// keyring, the only place systemd-pull reads one from. A private mount namespace with a tmpfs over
    /// /etc/systemd keeps the machine's /etc untouched (needs root, as the end-to-end tests do anyway).
    /// </summary>
    public static async Task<ProcessRun> RunWithKeyringAsync(string definitions, string? keyring, params string[] arguments)
    {
        ChildProcess.Require(Binary, Pull);

        var start = new ProcessStartInfo(keyring is null ? Binary : "/usr/bin/unshare");
        if (keyring is not null)
        {
            foreach (var argument in (string[])["--mount", "--propagation", "private", "/bin/sh", "-c",
                "mount -t tmpfs tmpfs /etc/systemd && cp \"$0\" /etc/systemd/import-pubring.gpg && exec \"$@\"", keyring, Binary])
            {
                start.ArgumentList.Add(argument);
            }
        }

        start.ArgumentList.Add($"--definitions={definitions}");
        start.ArgumentList.Add("--no-pager");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["LD_LIBRARY_PATH"] = LibraryDirectory;
        start.Environment["SYSTEMD_PULL_PATH"] = Pull;
        start.Environment["SYSTEMD_COLORS"] = "0";
        start.Environment["SYSTEMD_LOG_LEVEL"] = "info";

        return await ChildProcess.RunAsync(start, TimeSpan.FromMinutes(2));
    }

    /// <summary><c>list --json=short</c>: version → assessment.</summary>
    public static async Task<Dictionary<string, string>> ListAsync(string definitions, string? keyring = null)
    {
        var run = await RunWithKeyringAsync(definitions, keyring, "--json=short", "list");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var json = JsonDocument.Parse(run.Stdout);
        return json.RootElement.EnumerateArray().ToDictionary(
            e => e.GetProperty("version").GetString()!,
            e => e.GetProperty("assessment").GetString()!);
    }
}
