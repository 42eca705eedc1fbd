using System.Diagnostics;
using System.Security.Cryptography;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Scripts;

/// <summary>The shell tools the README's commands rely on produce what the service serves.</summary>
[Collection(RegistryCollection.Name)]
public class ScriptTests(RegistryServer registry)
{
    [Fact]
    public async Task OciLayoutScript_LayoutIsServed()
    {
        using var dir = new TempDirectory();
        var v1 = dir.Combine("hello-v1.0-x86-64.raw");
        var v2 = dir.Combine("hello-v1.1-x86-64.raw");
        await File.WriteAllBytesAsync(v1, Payloads.Random(1000, 1));
        await File.WriteAllBytesAsync(v2, Payloads.Random(2000, 2));

        await RunAsync("oci-layout.sh", dir.Combine("layout", "sysexts", "hello"), "v1.0-x86-64", v1, "v1.1-x86-64", v2);

        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Registry:Layout"] = dir.Combine("layout") });
        using var client = proxy.CreateClient();
        Assert.Equal(
            $"{Hex(v1)}  hello-v1.0-x86-64.raw\n{Hex(v2)}  hello-v1.1-x86-64.raw\n",
            await client.GetStringAsync("/sysexts/hello/SHA256SUMS"));
        Assert.Equal(await File.ReadAllBytesAsync(v2), await client.GetByteArrayAsync("/sysexts/hello/hello-v1.1-x86-64.raw"));
    }

    [Fact]
    public async Task SystemdChroot_NotBuilt_RunFailsNamingTheChrootAndTheFix()
    {
        using var cache = new TempDirectory();
        var start = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "scripts", "systemd-chroot.sh"), "run", "trixie", "--", "/bin/true"]);
        start.Environment["SYSEXT_CACHE"] = cache.Path;

        var run = await ChildProcess.RunAsync(start, TimeSpan.FromMinutes(1));

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains($"no trixie chroot at {cache.Path}/chroots/trixie", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("install-test-prereqs.sh", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SystemdChroot_SuiteTheMirrorLacks_FailsWithDebootstrapsReasonAndLeavesNothing()
    {
        using var cache = new TempDirectory();
        var start = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "scripts", "systemd-chroot.sh"), "no-such-suite"]);
        start.Environment["SYSEXT_CACHE"] = cache.Path;

        var run = await ChildProcess.RunAsync(start, TimeSpan.FromMinutes(2));

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("debootstrap of no-such-suite failed", run.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(cache.Path, "chroots", "no-such-suite")));
        Assert.Empty(Directory.GetDirectories(Path.Combine(cache.Path, "chroots")));
    }

    private static string Hex(string file) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));

    private static async Task RunAsync(string script, params string[] arguments)
    {
        var run = await ChildProcess.RunAsync(new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "scripts", script), .. arguments]));
        Assert.True(run.ExitCode == 0, $"{script} exited {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
    }
}
