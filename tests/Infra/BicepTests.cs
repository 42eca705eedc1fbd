using System.Diagnostics;
using SysextFunctions.Tests.Infrastructure;

namespace SysextFunctions.Tests.Infra;

/// <summary>The Bicep templates build and lint clean with the real Bicep CLI (warnings fail).</summary>
public class BicepTests
{
    [Fact]
    public async Task ValidateInfra_BuildsAndLintsWithoutWarnings()
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "scripts", "validate-infra.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoPaths.Root,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, $"validate-infra.sh exited {process.ExitCode}\n{await stdout}\n{await stderr}");
        Assert.StartsWith("OK", (await stdout).Trim().Split('\n')[^1], StringComparison.Ordinal);
    }
}
