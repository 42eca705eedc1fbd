using System.Diagnostics;

namespace SysextFunctions.Tests.Infrastructure;

/// <summary>Runs the real tools the tests depend on. A missing tool fails the test; it is never skipped.</summary>
internal static class ChildProcess
{
    /// <summary>Throws, naming the first of <paramref name="paths"/> that is missing and what installs it.</summary>
    public static void Require(params string[] paths)
    {
        foreach (var path in paths)
        {
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"{path} is missing: run scripts/install-test-prereqs.sh");
            }
        }
    }

    /// <summary>Runs <paramref name="start"/> to its exit, both output streams captured (read together, so neither fills up).</summary>
    public static async Task<ProcessRun> RunAsync(ProcessStartInfo start, TimeSpan? timeout = null)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? Timeout.InfiniteTimeSpan);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            // A hung tool must not outlive its test; what it printed so far says where it hung.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"{start.FileName} did not finish within {timeout}\n--- stdout\n{await stdout}\n--- stderr\n{await stderr}");
        }

        return new ProcessRun(process.ExitCode, await stdout, await stderr);
    }
}

internal sealed record ProcessRun(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}
