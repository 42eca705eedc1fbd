using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Deploy;

/// <summary>
/// deploy/sysext-functions.service and its signing drop-in, checked offline by the machine's systemd-analyze
/// (252) inside a throwaway root that holds the unit, the drop-in, a stand-in ExecStart and the system's units.
/// </summary>
public class ServiceUnitTests
{
    private const string Analyze = "/usr/bin/systemd-analyze";
    private const string UnitName = "sysext-functions.service";

    private static string Unit => Path.Combine(RepoPaths.Root, "deploy", UnitName);

    private static string DropIn => Path.Combine(RepoPaths.Root, "deploy", "signing.conf");

    [Fact]
    public async Task Verify_UnitWithSigningDropIn_CleanWithoutWarnings()
    {
        using var root = await RootAsync(File.ReadAllText(DropIn));

        var run = await RunAsync("verify", $"--root={root.Path}", UnitName);

        Assert.True(run.ExitCode == 0 && run.Output.Length == 0, run.Output);
    }

    [Fact]
    public async Task Verify_TypoInDropIn_Reported()
    {
        // The check above can fail: a misspelt setting is reported.
        using var root = await RootAsync(File.ReadAllText(DropIn).Replace("LoadCredential=", "LoadCredentials=", StringComparison.Ordinal));

        var run = await RunAsync("verify", $"--root={root.Path}", UnitName);

        Assert.Contains("Unknown key 'LoadCredentials'", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Security_Offline_ExposureBelowTwo()
    {
        using var root = await RootAsync(File.ReadAllText(DropIn));

        var run = await RunAsync("security", "--offline=true", $"--root={root.Path}", Path.Combine(root.Path, "etc", "systemd", "system", UnitName));

        var level = Regex.Match(run.Output, @"Overall exposure level for \S+: (\d+\.\d+)");
        Assert.True(level.Success, run.Output);
        Assert.InRange(double.Parse(level.Groups[1].Value, CultureInfo.InvariantCulture), 0.0, 2.0);
    }

    [Fact]
    public void Unit_SandboxedButNotMemoryDenyWriteExecute()
    {
        var settings = File.ReadAllLines(Unit).Where(l => l.Length > 0 && l[0] is not ('#' or '[')).ToList();

        foreach (var required in (string[])["DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
            "CapabilityBoundingSet=", "SystemCallFilter=@system-service", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"])
        {
            Assert.Contains(required, settings);
        }

        // The .NET JIT makes memory executable at run time; this option would kill the service at start.
        Assert.DoesNotContain(settings, l => l.StartsWith("MemoryDenyWriteExecute", StringComparison.Ordinal));
        Assert.Contains(settings, l => l.StartsWith("EnvironmentFile=", StringComparison.Ordinal));
        Assert.Contains("LoadCredential=signing-key:", File.ReadAllText(DropIn), StringComparison.Ordinal);
    }

    /// <summary>A root with the system's units, ours, the drop-in and an executable where ExecStart points.</summary>
    private static async Task<TempDirectory> RootAsync(string dropIn)
    {
        var root = new TempDirectory("sysext-unit-");
        var system = Directory.CreateDirectory(root.Combine("etc", "systemd", "system", UnitName + ".d")).Parent!.FullName;
        File.Copy(Unit, Path.Combine(system, UnitName));
        await File.WriteAllTextAsync(Path.Combine(system, UnitName + ".d", "signing.conf"), dropIn);
        CopyDirectory("/lib/systemd/system", root.CreateDirectory("usr", "lib", "systemd", "system"));

        var execStart = File.ReadAllLines(Unit).Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..].Split(' ')[0];
        var standIn = root.Path + execStart;
        Directory.CreateDirectory(Path.GetDirectoryName(standIn)!);
        await File.WriteAllTextAsync(standIn, "#!/bin/sh\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(standIn, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return root;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in new DirectoryInfo(from).EnumerateFiles())
        {
            // Units and their symlinks; whatever a link points at need not exist for these checks.
            if (file.LinkTarget is null)
            {
                file.CopyTo(Path.Combine(to, file.Name));
            }
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        ChildProcess.Require(Analyze);
        var start = new ProcessStartInfo(Analyze, arguments);
        start.Environment["SYSTEMD_COLORS"] = "0";
        start.Environment["SYSTEMD_PAGER"] = "";
        var run = await ChildProcess.RunAsync(start, TimeSpan.FromMinutes(1));
        return (run.ExitCode, run.Stdout + run.Stderr);
    }
}
