using System.Diagnostics;
using SysextFunctions.Tests.Infrastructure;

namespace SysextFunctions.Tests.Infra;

/// <summary>The Bicep templates build and lint clean with the real Bicep CLI (warnings fail).</summary>
public class BicepTests
{
    [Fact]
    public async Task ValidateInfra_BuildsAndLintsWithoutWarnings()
    {
        var run = await ChildProcess.RunAsync(new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "scripts", "validate-infra.sh")])
        {
            WorkingDirectory = RepoPaths.Root,
        }, TimeSpan.FromMinutes(10));

        Assert.True(run.ExitCode == 0, $"validate-infra.sh exited {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.StartsWith("OK", run.Stdout.Trim().Split('\n')[^1], StringComparison.Ordinal);
    }
}
