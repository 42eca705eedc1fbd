using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SysextFunctions.FunctionsHost;

namespace SysextFunctions.Bench;

/// <summary>
/// Cold start: from starting a process to its first <c>SHA256SUMS</c> answer, as a scale-out instance of Azure
/// Functions or a restarted service meets it. The build under test is <c>src/Functions</c>' Release output, or
/// the folder in <c>BENCH_APP_DIR</c> (for example a ReadyToRun publish) to compare.
/// </summary>
internal sealed partial class Side
{
    private const int ColdStarts = 5;
    private const string ColdRepository = "bench/coldstart";

    private static string AppDirectory => Environment.GetEnvironmentVariable("BENCH_APP_DIR") ?? RepoPaths.FunctionsOutput;

    private async Task ColdStartAsync(OciPusher pusher, Uri registry)
    {
        await pusher.PushManyAsync(ColdRepository, 3);
        Step($"cold start: {ColdStarts} starts each, standalone and behind the Functions host emulator, of {AppDirectory}");
        var standalone = new List<double>();
        var functions = new List<double>();
        for (var round = 0; round < ColdStarts; round++)
        {
            standalone.Add(await StandaloneStartAsync(registry));
            functions.Add(await FunctionsStartAsync(registry));
        }

        Console.WriteLine($"     standalone: {string.Join(", ", standalone.Select(ms => $"{ms:F0}"))} ms; functions: {string.Join(", ", functions.Select(ms => $"{ms:F0}"))} ms");
        _rows.Add(new Row("7a", "cold start, standalone: process start to first SHA256SUMS", $"{Median(standalone):F0} ms", "", "", "", null));
        _rows.Add(new Row("7b", "cold start, Functions: worker start under the host emulator to first SHA256SUMS", $"{Median(functions):F0} ms", "", "", "", null));
    }

    private static async Task<double> StandaloneStartAsync(Uri registry)
    {
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppDirectory, "SysextFunctions.dll"), $"--urls={url}", $"--Registry:Url={registry}", "--Logging:LogLevel:Default=Warning"]);
        var watch = Stopwatch.StartNew();
        // No ready line: the first answer is what is timed.
        await using var process = ChildProcess.Start(start, readyLine: null);
        await FirstAnswerAsync(new Uri(url, $"/{ColdRepository}/SHA256SUMS"), () => process.HasExited);
        return watch.Elapsed.TotalMilliseconds;
    }

    private static async Task<double> FunctionsStartAsync(Uri registry)
    {
        var settings = new Dictionary<string, string?> { ["Registry__Url"] = registry.AbsoluteUri, ["Logging__LogLevel__Default"] = "Warning" };
        var watch = Stopwatch.StartNew();
        await using var emulator = await FunctionsHostEmulator.StartAsync(new EmulatorOptions { AppDirectory = AppDirectory, Settings = settings }, NullLoggerFactory.Instance);
        await FirstAnswerAsync(new Uri(emulator.Url, $"/{ColdRepository}/SHA256SUMS"), () => false);
        return watch.Elapsed.TotalMilliseconds;
    }

    /// <summary>Asks every 5 ms until the first 200: the interval is the resolution of the figure.</summary>
    private static async Task FirstAnswerAsync(Uri checksums, Func<bool> exited)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (exited())
            {
                throw new InvalidOperationException("the server exited before it answered");
            }

            try
            {
                using var response = await http.GetAsync(checksums);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
            }

            await Task.Delay(5);
        }
    }
}
