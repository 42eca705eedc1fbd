using System.Diagnostics;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// The systemd 254 that scripts/install-test-prereqs.sh unpacks into tools/systemd (<see cref="SysupdateTool"/>),
/// run in a way <see cref="SysupdateClient"/> does not: with another CA bundle. A missing binary fails the test.
/// </summary>
internal static class UnpackedSystemd
{
    /// <summary>
    /// Runs sysupdate where the system CA bundle (/etc/ssl/certs/ca-certificates.crt, which systemd-pull's libcurl
    /// reads) is <paramref name="caBundle"/>: a bind mount inside a private mount namespace, so the machine's trust
    /// store is never touched (needs root).
    /// </summary>
    public static async Task<ProcessRun> SysupdateTrustingAsync(string definitions, string caBundle, params string[] arguments)
    {
        ChildProcess.Require(SysupdateTool.Binary, SysupdateTool.Pull);

        var start = new ProcessStartInfo("/usr/bin/unshare");
        foreach (var argument in (string[])["--mount", "--propagation", "private", "/bin/sh", "-c",
            "mount --bind \"$0\" /etc/ssl/certs/ca-certificates.crt && exec \"$@\"", caBundle, SysupdateTool.Binary,
            $"--definitions={definitions}", "--no-pager", .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["LD_LIBRARY_PATH"] = SysupdateTool.LibraryDirectory;
        start.Environment["SYSTEMD_PULL_PATH"] = SysupdateTool.Pull;
        start.Environment["SYSTEMD_COLORS"] = "0";
        start.Environment["SYSTEMD_LOG_LEVEL"] = "info";
        return await ChildProcess.RunAsync(start, TimeSpan.FromMinutes(2));
    }
}
