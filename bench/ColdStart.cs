using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SysextFunctions.FunctionsHost;

namespace SysextFunctions.Bench;

/// <summary>
/// Cold start: from starting a process to its first <c>SHA256SUMS</c> answer, as a scale-out instance of Azure
/// Functions or a restarted service meets it. Variants are started in turn (one of each per round), so that what
/// else the machine does weighs on all of them alike: <c>src/Functions</c>' Release build output (JIT), and, when
/// <c>scripts/bench.sh</c> has published it into <see cref="ReadyToRunDirectory"/>, the same app published ReadyToRun,
/// alone and with the runtime's tiered PGO off. <c>BENCH_APP_DIR</c> replaces the build output with another folder.
/// </summary>
internal sealed partial class Side
{
    private const int ColdStarts = 5;
    private const string ColdRepository = "bench/coldstart";

    private static string AppDirectory => Environment.GetEnvironmentVariable("BENCH_APP_DIR") ?? RepoPaths.FunctionsOutput;

    /// <summary>Where <c>scripts/bench.sh</c> publishes src/Functions ReadyToRun (<c>-r linux-x64</c>).</summary>
    private static string ReadyToRunDirectory => Path.Combine(RepoPaths.Root, "bench", "bin", "publish-r2r");

    private sealed record StartVariant(string Name, string Directory, IReadOnlyDictionary<string, string?> Environment, bool Functions)
    {
        public List<double> Standalone { get; } = [];

        public List<double> UnderHost { get; } = [];

        /// <summary>The server's (standalone) or the worker's (Functions) CPU milliseconds until its first answer.</summary>
        public List<double> StandaloneCpu { get; } = [];

        public List<double> UnderHostCpu { get; } = [];
    }

    private async Task ColdStartAsync(OciPusher pusher, Uri registry)
    {
        await pusher.PushManyAsync(ColdRepository, 3);
        var none = new Dictionary<string, string?>();
        List<StartVariant> variants = [new("JIT (build output)", AppDirectory, none, Functions: true)];
        if (File.Exists(Path.Combine(ReadyToRunDirectory, "SysextFunctions.dll")))
        {
            variants.Add(new("ReadyToRun", ReadyToRunDirectory, none, Functions: true));
            variants.Add(new("ReadyToRun, TieredPGO off", ReadyToRunDirectory, new Dictionary<string, string?> { ["DOTNET_TieredPGO"] = "0" }, Functions: false));
        }

        Step($"cold start: {ColdStarts} rounds, each starting in turn {string.Join("; ", variants.Select(v => $"{v.Name} ({(v.Functions ? "standalone and under the Functions host emulator" : "standalone")})"))}");
        for (var round = 0; round < ColdStarts; round++)
        {
            foreach (var variant in variants)
            {
                var (wall, cpu) = await StandaloneStartAsync(registry, variant);
                variant.Standalone.Add(wall);
                variant.StandaloneCpu.Add(cpu);
                if (variant.Functions)
                {
                    (wall, cpu) = await FunctionsStartAsync(registry, variant);
                    variant.UnderHost.Add(wall);
                    variant.UnderHostCpu.Add(cpu);
                }
            }
        }

        foreach (var variant in variants)
        {
            Console.WriteLine($"     {variant.Name}: standalone {Times(variant.Standalone)} ms (CPU {Times(variant.StandaloneCpu)} ms)" +
                (variant.Functions ? $"; functions {Times(variant.UnderHost)} ms (worker CPU {Times(variant.UnderHostCpu)} ms)" : ""));
        }

        // Wall-clock rows, then the CPU the process spent until it answered: on a shared machine the CPU rows are
        // what compares variants (the ratio column); wall clock moves with whatever else runs.
        var jit = variants[0];
        _rows.Add(new Row("7a", "cold start, standalone: process start to first SHA256SUMS (JIT)", $"{Median(jit.Standalone):F0} ms", $"CPU {Median(jit.StandaloneCpu):F0} ms", "", "", null));
        _rows.Add(new Row("7b", "cold start, Functions: worker start under the host emulator to first SHA256SUMS (JIT)", $"{Median(jit.UnderHost):F0} ms", $"worker CPU {Median(jit.UnderHostCpu):F0} ms", "", "", null));
        foreach (var (variant, letter) in variants.Skip(1).Zip("cdef"))
        {
            _rows.Add(new Row($"7{letter}", $"cold start, standalone, {variant.Name}: CPU to first answer", $"{Median(variant.StandaloneCpu):F0} ms ({Median(variant.Standalone):F0} ms wall)", $"{Median(jit.StandaloneCpu):F0} ms (JIT)", $"{Median(variant.StandaloneCpu) / Median(jit.StandaloneCpu):F2}×", "", null));
            if (variant.Functions)
            {
                _rows.Add(new Row($"7{letter}'", $"cold start, Functions, {variant.Name}: worker CPU to first answer", $"{Median(variant.UnderHostCpu):F0} ms ({Median(variant.UnderHost):F0} ms wall)", $"{Median(jit.UnderHostCpu):F0} ms (JIT)", $"{Median(variant.UnderHostCpu) / Median(jit.UnderHostCpu):F2}×", "", null));
            }
        }
    }

    private static string Times(List<double> values) => string.Join(", ", values.Select(ms => $"{ms:F0}"));

    private static double CpuMilliseconds(int pid)
    {
        using var process = Process.GetProcessById(pid);
        return process.TotalProcessorTime.TotalMilliseconds;
    }

    private static async Task<(double Wall, double Cpu)> StandaloneStartAsync(Uri registry, StartVariant variant)
    {
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var start = new ProcessStartInfo("dotnet", [Path.Combine(variant.Directory, "SysextFunctions.dll"), $"--urls={url}", $"--Registry:Url={registry}", "--Logging:LogLevel:Default=Warning"]);
        foreach (var (name, value) in variant.Environment)
        {
            start.Environment[name] = value;
        }

        var watch = Stopwatch.StartNew();
        await using var process = ChildProcess.Start(start);
        await FirstAnswerAsync(new Uri(url, $"/{ColdRepository}/SHA256SUMS"), () => process.HasExited);
        return (watch.Elapsed.TotalMilliseconds, CpuMilliseconds(process.Pid));
    }

    private static async Task<(double Wall, double Cpu)> FunctionsStartAsync(Uri registry, StartVariant variant)
    {
        var settings = new Dictionary<string, string?>(variant.Environment) { ["Registry__Url"] = registry.AbsoluteUri, ["Logging__LogLevel__Default"] = "Warning" };
        var watch = Stopwatch.StartNew();
        await using var emulator = await FunctionsHostEmulator.StartAsync(new EmulatorOptions { AppDirectory = variant.Directory, Settings = settings }, NullLoggerFactory.Instance);
        await FirstAnswerAsync(new Uri(emulator.Url, $"/{ColdRepository}/SHA256SUMS"), () => false);
        return (watch.Elapsed.TotalMilliseconds, CpuMilliseconds(emulator.WorkerProcessId));
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
