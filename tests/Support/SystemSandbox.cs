using System.Diagnostics;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// Runs the real systemd-sysupdate against absolute system paths, as a machine would, without touching the machine:
/// in a private mount namespace (root, as the end-to-end tests are) with a fresh tmpfs over <c>/opt</c> and a
/// writable overlay (its upper layer on a tmpfs) over <c>/etc</c>, so <c>/opt/extensions</c>,
/// <c>/etc/extensions</c> and <c>/etc/systemd/import-pubring.gpg</c> exist only for the run. The script runs in
/// <c>sh -e</c> with <c>$SYSUPDATE</c> (the binary with <c>--definitions</c> and <c>--no-pager</c>) set; what it
/// leaves in /opt and /etc is gone when it ends, so it prints what the test checks.
/// </summary>
internal static class SystemSandbox
{
    public static async Task<ProcessRun> RunAsync(string definitions, string script, string? keyring = null)
    {
        ChildProcess.Require(SysupdateTool.Binary, SysupdateTool.Pull, "/usr/bin/unshare");
        using var scratch = new TempDirectory("sysext-sandbox-");
        var setup = $"""
            set -e
            mount -t tmpfs tmpfs /opt
            mount -t tmpfs tmpfs "$SCRATCH"
            mkdir "$SCRATCH/upper" "$SCRATCH/work"
            mount -t overlay overlay -o "lowerdir=/etc,upperdir=$SCRATCH/upper,workdir=$SCRATCH/work" /etc
            if [ -n "$KEYRING" ]; then mkdir -p /etc/systemd && cp "$KEYRING" /etc/systemd/import-pubring.gpg; fi
            SYSUPDATE="$SYSUPDATE_BIN --definitions=$DEFINITIONS --no-pager"

            """;
        var start = new ProcessStartInfo("/usr/bin/unshare");
        foreach (var argument in (string[])["--mount", "--propagation", "private", "/bin/sh", "-c", setup + script])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SCRATCH"] = scratch.Path;
        start.Environment["KEYRING"] = keyring ?? "";
        start.Environment["DEFINITIONS"] = definitions;
        start.Environment["SYSUPDATE_BIN"] = SysupdateTool.Binary;
        start.Environment["LD_LIBRARY_PATH"] = SysupdateTool.LibraryDirectory;
        start.Environment["SYSTEMD_PULL_PATH"] = SysupdateTool.Pull;
        start.Environment["SYSTEMD_COLORS"] = "0";
        start.Environment["SYSTEMD_LOG_LEVEL"] = "info";
        return await ChildProcess.RunAsync(start, TimeSpan.FromMinutes(3));
    }
}
