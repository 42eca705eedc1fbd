using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using SysextFunctions.Bench;
using SysextFunctions.Tests.Infrastructure;

// ./scripts/bench.sh            the side-by-side table (real registry, proxy process, nginx)
// ./scripts/bench.sh --micro    BenchmarkDotNet micro-benchmarks of the hot paths
if (args.Contains("--micro"))
{
    var config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
    string[] rest = [.. args.Where(a => a != "--micro")];
    BenchmarkSwitcher.FromTypes([typeof(HotPaths)]).Run(rest.Length > 0 ? rest : ["--filter", "*"], config);
    return 0;
}

return await new Side(args).RunAsync();

namespace SysextFunctions.Bench
{
    /// <summary>The benchmark proper: every ratio measured side by side in one run.</summary>
    internal sealed partial class Side(string[] args)
    {
        private const int Tags = 300;
        private const int ColdRounds = 3;
        private static readonly long BlobBytes = long.Parse(Environment.GetEnvironmentVariable("BENCH_BLOB_MIB") ?? "512", CultureInfo.InvariantCulture) * 1024 * 1024;
        private const int Clients = 64;

        private readonly List<Row> _rows = [];
        private readonly int _loadSeconds = int.Parse(args.SkipWhile(a => a != "--load-seconds").Skip(1).FirstOrDefault() ?? "8", CultureInfo.InvariantCulture);

        public async Task<int> RunAsync()
        {
            Console.WriteLine(Machine.Describe());
            Console.WriteLine();

            ChildProcess.Require(RegistryServer.Binary);
            await using var registry = new RegistryServer { BlobDescriptorCache = true };
            await registry.InitializeAsync();
            _registry = registry;
            var pusher = new OciPusher(registry.Url, new HttpClient { Timeout = TimeSpan.FromMinutes(5) });
            Step($"registry on {registry.Url}; pushing {ColdRounds} repositories of {Tags} tags and a {BlobBytes >> 20} MiB blob");
            for (var round = 1; round <= ColdRounds; round++)
            {
                await PushManyAsync(pusher, $"bench/cold{round}", Tags);
            }

            await PushManyAsync(pusher, "bench/warmup", 5);
            var blobDigest = await PushBigAsync(pusher);

            await using var proxy = await Proxy.StartAsync(registry.Url, ttl: "00:10:00");
            await using var refreshing = await Proxy.StartAsync(registry.Url, ttl: "00:00:00");
            using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = 1 }) { Timeout = TimeSpan.FromMinutes(10) };
            await WarmUpAsync(http, registry.Url, proxy, refreshing);

            // --only checksums|blob|load runs one part, for working on it.
            var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
            var checksums = only is null or "checksums" or "load" ? await ChecksumsAsync(http, registry.Url, proxy, refreshing) : null;
            if (only is null or "blob")
            {
                await BlobAsync(registry.Url, proxy, blobDigest);
            }

            if (checksums is not null && only is null or "load")
            {
                await LoadAsync(proxy, checksums!);
            }

            Console.WriteLine();
            Print();
            return _rows.All(r => r.Pass is not false) ? 0 : 1;
        }

        private static void Step(string text) => Console.WriteLine($"-- {text}");

        private RegistryServer? _registry;

        /// <summary>Runs <paramref name="phase"/> and prints the CPU seconds each process spent in it: on a shared machine that is what bounds a ratio.</summary>
        private async Task<T> CpuAsync<T>(string label, Proxy proxy, Func<Task<T>> phase)
        {
            var self = System.Diagnostics.Process.GetCurrentProcess();
            var (r0, p0, b0) = (ProcStats.CpuSeconds(_registry!.Process.Pid), ProcStats.CpuSeconds(proxy.Process.Pid), self.TotalProcessorTime.TotalSeconds);
            var watch = Stopwatch.StartNew();
            var result = await phase();
            self.Refresh();
            Console.WriteLine($"     cpu {label}: {watch.Elapsed.TotalSeconds:F2} s wall; registry {ProcStats.CpuSeconds(_registry.Process.Pid) - r0:F2} s, proxy {ProcStats.CpuSeconds(proxy.Process.Pid) - p0:F2} s, bench client {self.TotalProcessorTime.TotalSeconds - b0:F2} s");
            return result;
        }

        private static async Task WarmUpAsync(HttpClient http, Uri registry, Proxy proxy, Proxy refreshing)
        {
            // JIT and connection set-up on every side, on a repository the measurements never touch.
            for (var i = 0; i < 20; i++)
            {
                await GetAsync(http, new Uri(proxy.Url, "/bench/warmup/SHA256SUMS"));
                await GetAsync(http, new Uri(refreshing.Url, "/bench/warmup/SHA256SUMS"));
                await GetAsync(http, new Uri(proxy.Url, "/bench/warmup/warmup-v1.0.1.raw"));
                await Baseline.ChecksumsAsync(http, registry, "bench/warmup");
            }
        }

        private static async Task<byte[]> GetAsync(HttpClient http, Uri uri)
        {
            using var response = await http.GetAsync(uri);
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadAsByteArrayAsync();
        }

        private async Task BlobAsync(Uri registry, Proxy proxy, string digest)
        {
            Step($"(3) a {BlobBytes >> 20} MiB blob: through the proxy (stream) vs straight from the registry, 3 rounds each");
            var direct = new List<double>();
            var proxied = new List<double>();
            long growth = 0;
            for (var round = 0; round < 3; round++)
            {
                direct.Add(await CpuAsync("direct blob", proxy, () => DownloadAsync(new Uri(registry, $"/v2/bench/big/blobs/{digest}"))));

                var before = ProcStats.RssBytes(proxy.Process.Pid);
                var peak = before;
                using var stop = new CancellationTokenSource();
                var sampler = Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        peak = Math.Max(peak, ProcStats.RssBytes(proxy.Process.Pid));
                        await Task.Delay(5, CancellationToken.None);
                    }
                });
                proxied.Add(await CpuAsync("proxied blob", proxy, () => DownloadAsync(new Uri(proxy.Url, "/bench/big/big-v1.raw"))));
                await stop.CancelAsync();
                await sampler;
                growth = Math.Max(growth, peak - before);
            }

            var (proxyRate, directRate) = (Median(proxied), Median(direct));
            var growthMiB = growth / (1024.0 * 1024);
            Add("3", $"{BlobBytes >> 20} MiB blob throughput", $"{proxyRate:F0} MiB/s", $"{directRate:F0} MiB/s (registry)", proxyRate / directRate, 0.9);
            _rows.Add(new Row("3b", "proxy RSS growth during the transfer", $"{growthMiB:F1} MiB", "", "", "≤ 64 MiB", growthMiB <= 64));
        }

        /// <summary>Downloads and discards, returning MiB/s; the same client code for both sides.</summary>
        private static async Task<double> DownloadAsync(Uri uri)
        {
            using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromMinutes(10) };
            var buffer = new byte[1 << 20];
            var watch = Stopwatch.StartNew();
            using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync();
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                total += read;
            }

            if (total != BlobBytes)
            {
                throw new InvalidOperationException($"{uri} gave {total} bytes, not {BlobBytes}");
            }

            return BlobBytes / (1024.0 * 1024) / watch.Elapsed.TotalSeconds;
        }

        private async Task LoadAsync(Proxy proxy, byte[] checksums)
        {
            await using var nginx = await Nginx.StartAsync("bench/cold1/SHA256SUMS", checksums);
            var tool = Load.Tool;
            Step($"(4) warm SHA256SUMS, {Clients} concurrent clients for {_loadSeconds} s with {tool}: the proxy vs nginx serving the same bytes as a file, 3 rounds each");
            var proxyRates = new List<double>();
            var nginxRates = new List<double>();
            for (var round = 0; round < 3; round++)
            {
                nginxRates.Add(await Load.RequestsPerSecondAsync(new Uri(nginx.Url, "/bench/cold1/SHA256SUMS"), Clients, _loadSeconds, checksums.Length));
                proxyRates.Add(await Load.RequestsPerSecondAsync(new Uri(proxy.Url, "/bench/cold1/SHA256SUMS"), Clients, _loadSeconds, checksums.Length));
            }

            var (proxyRps, nginxRps) = (Median(proxyRates), Median(nginxRates));
            Add("4", $"warm SHA256SUMS, {Clients} clients", $"{proxyRps:F0} req/s", $"{nginxRps:F0} req/s (nginx)", proxyRps / nginxRps, 0.5);
        }

        private void Add(string id, string what, string proxy, string reference, double ratio, double? target) =>
            _rows.Add(new Row(id, what, proxy, reference, ratio.ToString(ratio >= 100 ? "F0" : "F2", CultureInfo.InvariantCulture) + "×",
                target is { } t ? $"≥ {t.ToString(CultureInfo.InvariantCulture)}×" : "", target is { } min ? ratio >= min : null));

        private void Print()
        {
            string[] header = ["#", "measure", "proxy", "reference", "ratio", "target", "result"];
            var cells = _rows.Select(r => new[] { r.Id, r.What, r.Proxy, r.Reference, r.Ratio, r.Target, r.Pass switch { true => "pass", false => "FAIL", null => "" } }).ToList();
            var widths = header.Select((h, i) => Math.Max(h.Length, cells.Max(c => c[i].Length))).ToArray();
            string Line(string[] c) => "| " + string.Join(" | ", c.Select((x, i) => x.PadRight(widths[i]))) + " |";
            Console.WriteLine(Line(header));
            Console.WriteLine("| " + string.Join(" | ", widths.Select(w => new string('-', w))) + " |");
            foreach (var c in cells)
            {
                Console.WriteLine(Line(c));
            }
        }

        private static double Median(List<double> values)
        {
            var sorted = values.Order().ToList();
            return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        }

        private sealed record Row(string Id, string What, string Proxy, string Reference, string Ratio, string Target, bool? Pass);
    }
}
