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
        private const int Clients = 64;

        /// <summary>The proxy's Cache:ResolveParallelism default, for the physical limit.</summary>
        private const int Concurrency = 64;

        private static readonly long BlobBytes = long.Parse(Environment.GetEnvironmentVariable("BENCH_BLOB_MIB") ?? "256", CultureInfo.InvariantCulture) * 1024 * 1024;
        private static readonly TimeSpan Rtt = TimeSpan.FromMilliseconds(double.Parse(Environment.GetEnvironmentVariable("BENCH_RTT_MS") ?? "20", CultureInfo.InvariantCulture));

        private readonly List<Row> _rows = [];
        private readonly int _loadSeconds = int.Parse(args.SkipWhile(a => a != "--load-seconds").Skip(1).FirstOrDefault() ?? "8", CultureInfo.InvariantCulture);
        private Registry? _registry;

        public async Task<int> RunAsync()
        {
            Console.WriteLine(Machine.Describe());
            Console.WriteLine();

            await using var registry = await Registry.StartAsync();
            _registry = registry;
            Step($"registry on {registry.Url}; pushing {ColdRounds + 2} repositories of {Tags} tags and a {BlobBytes >> 20} MiB blob");
            for (var round = 1; round <= ColdRounds; round++)
            {
                await registry.PushManyAsync($"bench/cold{round}", Tags);
            }

            await registry.PushManyAsync("bench/count1", Tags);
            await registry.PushManyAsync("bench/count2", Tags);
            await registry.PushManyAsync("bench/warmup", 5);
            var blobDigest = await PushBigAsync(registry);

            // --only checksums|blob|load runs one part, for working on it.
            var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
            byte[]? checksums = null;
            await using var proxy = await Proxy.StartAsync(registry.Url, ttl: "00:10:00");
            if (only is null or "checksums" or "load")
            {
                checksums = await ChecksumsAsync(registry, proxy);
            }

            if (only is null or "checksums")
            {
                await RequestsAsync(registry);
            }

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

        /// <summary>Runs <paramref name="phase"/> and prints the CPU seconds each process spent in it: on a shared machine that is what bounds a ratio.</summary>
        private async Task<T> CpuAsync<T>(string label, Proxy proxy, Func<Task<T>> phase)
        {
            var self = System.Diagnostics.Process.GetCurrentProcess();
            var (r0, p0, b0) = (_registry!.Process.CpuSeconds(), proxy.Process.CpuSeconds(), self.TotalProcessorTime.TotalSeconds);
            var watch = Stopwatch.StartNew();
            var result = await phase();
            self.Refresh();
            Console.WriteLine($"     cpu {label}: {watch.Elapsed.TotalSeconds:F2} s wall; registry {_registry.Process.CpuSeconds() - r0:F2} s, proxy {proxy.Process.CpuSeconds() - p0:F2} s, bench (client, relay) {self.TotalProcessorTime.TotalSeconds - b0:F2} s");
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

        private static HttpClient OneConnection() =>
            new(new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = 1 }) { Timeout = TimeSpan.FromMinutes(10) };

        private static async Task<byte[]> GetAsync(HttpClient http, Uri uri)
        {
            using var response = await http.GetAsync(uri);
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadAsByteArrayAsync();
        }

        /// <summary>GETs the proxy's SHA256SUMS of <paramref name="repository"/>, checks it against the baseline's bytes, returns milliseconds.</summary>
        private static async Task<double> TimedAsync(HttpClient http, Proxy proxy, string repository, byte[] expected)
        {
            var watch = Stopwatch.StartNew();
            var body = await GetAsync(http, new Uri(proxy.Url, $"/{repository}/SHA256SUMS"));
            var ms = watch.Elapsed.TotalMilliseconds;
            return body.AsSpan().SequenceEqual(expected) ? ms : throw new InvalidOperationException($"the proxy's SHA256SUMS of {repository} differs from the baseline's");
        }

        private static string Limit(int roundTrips, bool setUp) =>
            $"{(roundTrips + (setUp ? 1 : 0)) * Rtt.TotalMilliseconds:F0} ms ({roundTrips} RTT{(setUp ? " + 1 set-up" : "")})";

        private async Task<byte[]> ChecksumsAsync(Registry registry, Proxy loopbackProxy)
        {
            using var http = OneConnection();
            var rttMs = Rtt.TotalMilliseconds;
            await using var relay = LatencyRelay.Start(registry.Url, Rtt);
            await using var acr = await AcrFacade.StartAsync(registry.Url);
            await using var acrRelay = LatencyRelay.Start(acr.Url, Rtt);
            for (var round = 1; round <= ColdRounds; round++)
            {
                await acr.PrimeAsync($"bench/cold{round}");
            }

            await using var cold = await Proxy.StartAsync(relay.Url, ttl: "00:10:00");
            await using var relisting = await Proxy.StartAsync(relay.Url, ttl: "00:00:00");
            await using var acrCold = await Proxy.StartAsync(acrRelay.Url, ttl: "00:00:00", "--Registry:TagListing=acr");

            // JIT and connection set-up on every side, on a repository the measurements never touch.
            for (var i = 0; i < 5; i++)
            {
                foreach (var p in new[] { loopbackProxy, cold, relisting, acrCold })
                {
                    await GetAsync(http, new Uri(p.Url, "/bench/warmup/SHA256SUMS"));
                }

                await Baseline.ChecksumsAsync(http, registry.Url, "bench/warmup");
            }

            await Baseline.ChecksumsAsync(http, relay.Url, "bench/warmup");

            Step($"(1) SHA256SUMS of {Tags} tags across a {rttMs} ms round trip (TCP relay): the baseline (sequential manifest GETs) vs the proxy, {ColdRounds} repositories each");
            var baseline = new List<double>();
            var expected = new List<byte[]>();
            await CpuAsync($"baseline x{ColdRounds}", cold, async () =>
            {
                for (var round = 1; round <= ColdRounds; round++)
                {
                    var watch = Stopwatch.StartNew();
                    expected.Add(await Baseline.ChecksumsAsync(http, relay.Url, $"bench/cold{round}"));
                    baseline.Add(watch.Elapsed.TotalMilliseconds);
                }

                return 0;
            });
            var baselineMs = Median(baseline);
            Console.WriteLine($"     baseline: {baselineMs / (Tags + 1):F1} ms per request (the relay's {rttMs} ms + the registry + timer slack)");

            var coldTimes = await CpuAsync($"proxy cold x{ColdRounds}", cold, async () =>
            {
                var times = new List<double>();
                for (var round = 1; round <= ColdRounds; round++)
                {
                    times.Add(await TimedAsync(http, cold, $"bench/cold{round}", expected[round - 1]));
                }

                return times;
            });
            var rounds = 1 + (int)Math.Ceiling(Tags / (double)Concurrency);
            AddTimed("1", $"cold SHA256SUMS, {Tags} tags, {rttMs} ms RTT", Median(coldTimes), baselineMs, Limit(rounds, setUp: true), 20);

            Step("    re-listing with nothing changed (Cache:ChecksumsTtl=0): tags list + one HEAD per tag, manifests from the cache");
            await TimedAsync(http, relisting, "bench/cold1", expected[0]);
            var relist = await CpuAsync("proxy re-list x5", relisting, async () =>
            {
                var times = new List<double>();
                for (var i = 0; i < 5; i++)
                {
                    times.Add(await TimedAsync(http, relisting, "bench/cold1", expected[0]));
                }

                return times;
            });
            AddTimed("1b", $"re-list, nothing changed, {rttMs} ms RTT", Median(relist), baselineMs, Limit(rounds, setUp: false), 40);

            Step("    the same from an Azure Container Registry (its _tags listing names digests: one request per 100 tags, one per new manifest)");
            var acrColdMs = await TimedAsync(http, acrCold, "bench/cold2", expected[1]);
            var acrRelist = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                acrRelist.Add(await TimedAsync(http, acrCold, "bench/cold2", expected[1]));
            }

            var pages = (int)Math.Ceiling(Tags / 100.0);
            AddTimed("1c", $"cold, ACR _tags listing, {rttMs} ms RTT", acrColdMs, baselineMs, Limit(pages + (int)Math.Ceiling(Tags / (double)Concurrency), setUp: true), null);
            AddTimed("1d", $"re-list, ACR _tags listing, {rttMs} ms RTT", Median(acrRelist), baselineMs, Limit(pages, setUp: false), null);

            Step("    on loopback, where the registry's CPU rather than the network bounds a listing (informational)");
            var loopBaseline = new List<double>();
            var loopCold = new List<double>();
            for (var round = 1; round <= ColdRounds; round++)
            {
                var watch = Stopwatch.StartNew();
                await Baseline.ChecksumsAsync(http, registry.Url, $"bench/cold{round}");
                loopBaseline.Add(watch.Elapsed.TotalMilliseconds);
                loopCold.Add(await TimedAsync(http, loopbackProxy, $"bench/cold{round}", expected[round - 1]));
            }

            var loopBaselineMs = Median(loopBaseline);
            AddTimed("1e", $"cold SHA256SUMS, {Tags} tags, loopback", Median(loopCold), loopBaselineMs, "", null);

            Step("(2) warm SHA256SUMS latency (sequential, one keep-alive connection) vs the cold baseline on loopback");
            var uri = new Uri(loopbackProxy.Url, "/bench/cold1/SHA256SUMS");
            const int warmRequests = 2000;
            var total = Stopwatch.StartNew();
            for (var i = 0; i < warmRequests; i++)
            {
                await GetAsync(http, uri);
            }

            var warmMs = total.Elapsed.TotalMilliseconds / warmRequests;
            Add("2", "warm SHA256SUMS latency", $"{warmMs * 1000:F0} µs", $"{loopBaselineMs:F1} ms (baseline, cold, loopback)", loopBaselineMs / warmMs, 100);
            return expected[0];
        }

        /// <summary>(R) What each listing costs the registry, counted by a forwarder in front of it; not timed.</summary>
        private async Task RequestsAsync(Registry registry)
        {
            Step($"(R) registry requests per listing of {Tags} tags: cold, re-listed unchanged, re-listed after one new tag (Cache:ChecksumsTtl=0)");
            await using var counter = await AcrFacade.StartAsync(registry.Url);
            using var http = OneConnection();
            var pages = (int)Math.Ceiling(Tags / 100.0);
            foreach (var (mode, repository) in new[] { ("distribution", "bench/count1"), ("acr", "bench/count2") })
            {
                await counter.PrimeAsync(repository);
                await using var proxy = await Proxy.StartAsync(counter.Url, ttl: "00:00:00", $"--Registry:TagListing={mode}");
                var counts = new List<int>();
                foreach (var step in new[] { "cold", "unchanged", "new tag" })
                {
                    if (step == "new tag")
                    {
                        await registry.PushNewTagAsync(repository, "v9.0.0");
                        await counter.PrimeAsync(repository);
                    }

                    counter.Reset();
                    await GetAsync(http, new Uri(proxy.Url, $"/{repository}/SHA256SUMS"));
                    Console.WriteLine($"     {mode}, {step}: {counter.Describe()}");
                    counts.Add(counter.Total);
                }

                var newDigests = new[] { Tags, 0, 1 };
                var tagPages = new[] { pages, pages, (int)Math.Ceiling((Tags + 1) / 100.0) };
                var labels = new[] { "cold", "unchanged", "after one new tag" };
                for (var i = 0; i < 3; i++)
                {
                    var bound = newDigests[i] + tagPages[i];
                    _rows.Add(mode == "acr"
                        ? new Row($"R{i + 1}", $"registry requests, {labels[i]}", $"{counts[i]} (ACR _tags)", $"{newDigests[i]} new digest{(newDigests[i] == 1 ? "" : "s")} + {tagPages[i]} pages", "", $"≤ {bound}", counts[i] <= bound)
                        : new Row($"R{i + 1}'", $"registry requests, {labels[i]}", $"{counts[i]} (distribution API)", "no digests in its tag list", "", "", null));
                }
            }
        }

        private async Task BlobAsync(Uri registry, Proxy proxy, string digest)
        {
            await using var nginx = await Nginx.StartProxyAsync(registry);
            Step($"(3) a {BlobBytes >> 20} MiB blob: through the proxy (stream, digest checked) vs nginx proxy_pass of the same blob from the registry, 3 rounds each");
            var nginxRates = new List<double>();
            var proxied = new List<double>();
            long growth = 0;
            await DownloadAsync(new Uri(nginx.Url, $"/v2/bench/big/blobs/{digest}"));
            await DownloadAsync(new Uri(proxy.Url, "/bench/big/big-v1.raw"));
            for (var round = 0; round < 3; round++)
            {
                nginxRates.Add(await CpuAsync("nginx proxy_pass", proxy, () => DownloadAsync(new Uri(nginx.Url, $"/v2/bench/big/blobs/{digest}"))));

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

            var direct = await DownloadAsync(new Uri(registry, $"/v2/bench/big/blobs/{digest}"));
            Console.WriteLine($"     straight from the registry (sendfile, no proxy): {direct:F0} MiB/s");
            var (proxyRate, nginxRate) = (Median(proxied), Median(nginxRates));
            var growthMiB = growth / (1024.0 * 1024);
            Add("3", $"{BlobBytes >> 20} MiB blob throughput", $"{proxyRate:F0} MiB/s", $"{nginxRate:F0} MiB/s (nginx proxy_pass)", proxyRate / nginxRate, 0.9);
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

        private void AddTimed(string id, string what, double ms, double baselineMs, string limit, double? target) =>
            _rows.Add(new Row(id, what, $"{ms:F0} ms", $"{baselineMs:F0} ms (baseline)", limit, Ratio(baselineMs / ms), Target(target), target is { } min ? baselineMs / ms >= min : null));

        private void Add(string id, string what, string proxy, string reference, double ratio, double? target) =>
            _rows.Add(new Row(id, what, proxy, reference, "", Ratio(ratio), Target(target), target is { } min ? ratio >= min : null));

        private static string Ratio(double ratio) => ratio.ToString(ratio >= 100 ? "F0" : "F2", CultureInfo.InvariantCulture) + "×";

        private static string Target(double? target) => target is { } t ? $"≥ {t.ToString(CultureInfo.InvariantCulture)}×" : "";

        private void Print()
        {
            string[] header = ["#", "measure", "proxy", "reference", "physical limit", "ratio", "target", "result"];
            var cells = _rows.Select(r => new[] { r.Id, r.What, r.Proxy, r.Reference, r.Limit, r.Ratio, r.Target, r.Pass switch { true => "pass", false => "FAIL", null => "" } }).ToList();
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

        private sealed record Row(string Id, string What, string Proxy, string Reference, string Limit, string Ratio, string Target, bool? Pass)
        {
            public Row(string id, string what, string proxy, string reference, string ratio, string target, bool? pass)
                : this(id, what, proxy, reference, "", ratio, target, pass)
            {
            }
        }
    }

    /// <summary>The baseline, the original sysext-oci-proxy's algorithm: the tag list, then one manifest GET per tag, one after another, on one kept-alive connection.</summary>
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
