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
    internal sealed class Side(string[] args)
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

            await using var registry = await Registry.StartAsync();
            _registry = registry;
            Step($"registry on {registry.Url}; pushing {ColdRounds} repositories of {Tags} tags and a {BlobBytes >> 20} MiB blob");
            for (var round = 1; round <= ColdRounds; round++)
            {
                await registry.PushManyAsync($"bench/cold{round}", Tags);
            }

            await registry.PushManyAsync("bench/warmup", 5);
            var blobDigest = await PushBigAsync(registry);

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

        private Registry? _registry;

        /// <summary>Runs <paramref name="phase"/> and prints the CPU seconds each process spent in it: on a shared machine that is what bounds a ratio.</summary>
        private async Task<T> CpuAsync<T>(string label, Proxy proxy, Func<Task<T>> phase)
        {
            var self = System.Diagnostics.Process.GetCurrentProcess();
            var (r0, p0, b0) = (_registry!.Process.CpuSeconds(), proxy.Process.CpuSeconds(), self.TotalProcessorTime.TotalSeconds);
            var watch = Stopwatch.StartNew();
            var result = await phase();
            self.Refresh();
            Console.WriteLine($"     cpu {label}: {watch.Elapsed.TotalSeconds:F2} s wall; registry {_registry.Process.CpuSeconds() - r0:F2} s, proxy {proxy.Process.CpuSeconds() - p0:F2} s, bench client {self.TotalProcessorTime.TotalSeconds - b0:F2} s");
            return result;
        }

        private static async Task<string> PushBigAsync(Registry registry)
        {
            var digest = "sha256:" + Convert.ToHexStringLower(await SHA256OfAsync(new PatternStream(BlobBytes)));
            await registry.PushBlobAsync("bench/big", Registry.EmptyDigest, new ByteArrayContent("{}"u8.ToArray()));
            using var content = new StreamContent(new PatternStream(BlobBytes), 1 << 20);
            content.Headers.ContentLength = BlobBytes;
            await registry.PushBlobAsync("bench/big", digest, content);
            await registry.PushArtifactAsync("bench/big", "v1", digest, BlobBytes, "big-v1.raw");
            return digest;
        }

        private static async Task<byte[]> SHA256OfAsync(Stream stream)
        {
            using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 20];
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }

            return hash.GetHashAndReset();
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

        private async Task<byte[]> ChecksumsAsync(HttpClient http, Uri registry, Proxy proxy, Proxy refreshing)
        {
            Step($"(1) cold SHA256SUMS, {Tags} tags: the seed's algorithm (sequential manifest GETs) vs the proxy, {ColdRounds} repositories each");
            // One baseline pass first, so that the registry's page cache is equally warm for both sides.
            for (var round = 1; round <= ColdRounds; round++)
            {
                await Baseline.ChecksumsAsync(http, registry, $"bench/cold{round}");
            }

            var baseline = new List<double>();
            var cold = new List<double>();
            var expected = new List<byte[]>();
            byte[] checksums = [];
            await CpuAsync("seed baseline x3", proxy, async () =>
            {
                for (var round = 1; round <= ColdRounds; round++)
                {
                    var watch = Stopwatch.StartNew();
                    expected.Add(await Baseline.ChecksumsAsync(http, registry, $"bench/cold{round}"));
                    baseline.Add(watch.Elapsed.TotalMilliseconds);
                }

                return 0;
            });
            await CpuAsync("proxy cold x3", proxy, async () =>
            {
                for (var round = 1; round <= ColdRounds; round++)
                {
                    var watch = Stopwatch.StartNew();
                    checksums = await GetAsync(http, new Uri(proxy.Url, $"/bench/cold{round}/SHA256SUMS"));
                    cold.Add(watch.Elapsed.TotalMilliseconds);
                    if (!checksums.AsSpan().SequenceEqual(expected[round - 1]))
                    {
                        throw new InvalidOperationException($"the proxy's SHA256SUMS of bench/cold{round} differs from the baseline's");
                    }
                }

                return 0;
            });

            var baselineMs = Median(baseline);
            var coldMs = Median(cold);
            Add("1", $"cold SHA256SUMS, {Tags} tags", $"{coldMs:F1} ms", $"{baselineMs:F1} ms (seed: sequential GETs)", baselineMs / coldMs, 10);

            Step("    refresh after the TTL: tags list + one HEAD per tag, manifests from the cache (informational)");
            await GetAsync(http, new Uri(refreshing.Url, "/bench/cold1/SHA256SUMS"));
            var refresh = new List<double>();
            await CpuAsync("proxy refresh x5", refreshing, async () =>
            {
                for (var i = 0; i < 5; i++)
                {
                    var watch = Stopwatch.StartNew();
                    await GetAsync(http, new Uri(refreshing.Url, "/bench/cold1/SHA256SUMS"));
                    refresh.Add(watch.Elapsed.TotalMilliseconds);
                }

                return 0;
            });

            var refreshMs = Median(refresh);
            Add("1b", $"SHA256SUMS after the TTL, {Tags} tags", $"{refreshMs:F1} ms", $"{baselineMs:F1} ms (seed)", baselineMs / refreshMs, null);

            await RemoteColdAsync(registry);

            Step("(2) warm SHA256SUMS latency (sequential, one keep-alive connection) vs the cold baseline");
            var uri = new Uri(proxy.Url, "/bench/cold1/SHA256SUMS");
            const int warmRequests = 2000;
            var total = Stopwatch.StartNew();
            for (var i = 0; i < warmRequests; i++)
            {
                await GetAsync(http, uri);
            }

            var warmMs = total.Elapsed.TotalMilliseconds / warmRequests;
            Add("2", "warm SHA256SUMS latency", $"{warmMs * 1000:F0} µs", $"{baselineMs:F1} ms (seed, cold)", baselineMs / warmMs, 100);
            return checksums;
        }

        /// <summary>(1) again with 2 ms added to every registry round trip, as for a registry on another machine.</summary>
        private async Task RemoteColdAsync(Uri registry)
        {
            var delay = TimeSpan.FromMilliseconds(2);
            Step($"    the same with {delay.TotalMilliseconds} ms added to each registry round trip (a registry across a network; informational)");
            await using var remote = await Latency.StartAsync(registry, delay);
            await using var proxy = await Proxy.StartAsync(remote.Url, ttl: "00:10:00");
            using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = 1 });
            await Baseline.ChecksumsAsync(http, remote.Url, "bench/warmup");
            await GetAsync(http, new Uri(proxy.Url, "/bench/warmup/SHA256SUMS"));
            var watch = Stopwatch.StartNew();
            var expected = await Baseline.ChecksumsAsync(http, remote.Url, "bench/cold2");
            var baselineMs = watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            var body = await GetAsync(http, new Uri(proxy.Url, "/bench/cold2/SHA256SUMS"));
            var coldMs = watch.Elapsed.TotalMilliseconds;
            if (!body.AsSpan().SequenceEqual(expected))
            {
                throw new InvalidOperationException("the proxy's SHA256SUMS differs from the baseline's");
            }

            Add("1c", $"cold SHA256SUMS, {Tags} tags, +{delay.TotalMilliseconds} ms RTT", $"{coldMs:F1} ms", $"{baselineMs:F1} ms (seed)", baselineMs / coldMs, null);
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

                var before = proxy.Process.RssBytes();
                var peak = before;
                using var stop = new CancellationTokenSource();
                var sampler = Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        peak = Math.Max(peak, proxy.Process.RssBytes());
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

    /// <summary>The seed's algorithm, as the baseline: the tag list, then one manifest GET per tag, one after another.</summary>
    internal static class Baseline
    {
        public static async Task<byte[]> ChecksumsAsync(HttpClient http, Uri registry, string repository)
        {
            using var tagsResponse = await http.GetAsync(new Uri(registry, $"/v2/{repository}/tags/list"));
            tagsResponse.EnsureSuccessStatusCode();
            using var tags = JsonDocument.Parse(await tagsResponse.Content.ReadAsByteArrayAsync());
            var name = repository[(repository.LastIndexOf('/') + 1)..];
            var lines = new List<(string Name, string Hex)>();
            foreach (var tag in tags.RootElement.GetProperty("tags").EnumerateArray())
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(registry, $"/v2/{repository}/manifests/{tag.GetString()}"));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(Registry.ManifestType));
                using var response = await http.SendAsync(request);
                response.EnsureSuccessStatusCode();
                using var manifest = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
                var digest = manifest.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!;
                lines.Add(($"{name}-{tag.GetString()}.raw", digest["sha256:".Length..]));
            }

            var text = new StringBuilder();
            foreach (var (file, hex) in lines.OrderBy(l => l.Name, StringComparer.Ordinal))
            {
                text.Append(hex).Append("  ").Append(file).Append('\n');
            }

            return Encoding.ASCII.GetBytes(text.ToString());
        }
    }

    /// <summary>Deterministic bytes of any length without holding them: the same content on every read.</summary>
    internal sealed class PatternStream(long length) : Stream
    {
        private static readonly byte[] Block = MakeBlock();
        private long _position;

        private static byte[] MakeBlock()
        {
            var block = new byte[1 << 20];
            new Random(42).NextBytes(block);
            return block;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - _position);
            var written = 0;
            while (written < n)
            {
                var inBlock = (int)((_position + written) % Block.Length);
                var chunk = Math.Min(n - written, Block.Length - inBlock);
                Block.AsSpan(inBlock, chunk).CopyTo(buffer[written..]);
                // Each MiB starts differently from the last, so no two blocks of the blob are equal.
                if (inBlock == 0)
                {
                    buffer[written] ^= (byte)((_position + written) / Block.Length);
                }

                written += chunk;
            }

            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
