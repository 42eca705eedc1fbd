using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using SysextFunctions.Bench;

// ./scripts/bench.sh            the side-by-side table (real registry, proxy process, nginx)
// ./scripts/bench.sh --micro    BenchmarkDotNet micro-benchmarks of the hot paths
// ./scripts/bench.sh --only coldstart    one part (checksums | blob | load | coldstart)
if (args.Contains("--micro"))
{
    var config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
    string[] rest = [.. args.Where(a => a != "--micro")];
    BenchmarkSwitcher.FromTypes([typeof(HotPaths), typeof(RolloutHotPaths)]).Run(rest.Length > 0 ? rest : ["--filter", "*"], config);
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
        private const int Clients = 64;

        /// <summary>The proxy's Cache:ResolveParallelism default, for the physical limit.</summary>
        private const int Concurrency = 64;

        private static readonly long BlobBytes = long.Parse(Environment.GetEnvironmentVariable("BENCH_BLOB_MIB") ?? "256", CultureInfo.InvariantCulture) * 1024 * 1024;
        private static readonly TimeSpan Rtt = TimeSpan.FromMilliseconds(double.Parse(Environment.GetEnvironmentVariable("BENCH_RTT_MS") ?? "20", CultureInfo.InvariantCulture));

        private readonly List<Row> _rows = [];
        private readonly int _loadSeconds = int.Parse(args.SkipWhile(a => a != "--load-seconds").Skip(1).FirstOrDefault() ?? "8", CultureInfo.InvariantCulture);
        private RegistryServer? _registry;

        /// <summary>The registry's CPU seconds in the last <see cref="CpuAsync"/> phase.</summary>
        private double _registryCpu;

        public async Task<int> RunAsync()
        {
            Console.WriteLine(Machine.Describe());
            Console.WriteLine();

            await using var registry = new RegistryServer { BlobDescriptorCache = true };
            await registry.InitializeAsync();
            using var pushing = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
            var pusher = new OciPusher(registry.Url, pushing);
            _registry = registry;
            // --only checksums|blob|load|rollout|coldstart runs one part, for working on it.
            var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
            if (only is null or "checksums" or "blob" or "load")
            {
                Step($"registry on {registry.Url}; pushing {ColdRounds + 4} repositories of {Tags} tags and a {BlobBytes >> 20} MiB blob");
                for (var round = 1; round <= ColdRounds; round++)
                {
                    await pusher.PushManyAsync($"bench/cold{round}", Tags);
                }

                await pusher.PushManyAsync("bench/count1", Tags);
                await pusher.PushManyAsync("bench/count2", Tags);
                await pusher.PushManyAsync("bench/count3", Tags);
                // As many tags as a measured listing, so that warming up runs the same code as often (see WarmUpAsync).
                await pusher.PushManyAsync("bench/warmup", Tags);
                var blobDigest = await PushBigAsync(pusher);

                byte[]? checksums = null;
                await using var proxy = await Proxy.StartCachingAsync(registry.Url);
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
            }

            if (only is null or "rollout")
            {
                await RolloutAsync(registry);
            }

            if (only is null or "coldstart")
            {
                await ColdStartAsync(pusher, registry.Url);
            }

            Console.WriteLine();
            Print();
            return _rows.All(r => r.Pass is not false) ? 0 : 1;
        }

        private static void Step(string text) => Console.WriteLine($"-- {text}");

        /// <summary>Runs <paramref name="phase"/> and prints the CPU seconds each process spent in it: on a shared machine that is what bounds a ratio.</summary>
        private async Task<T> CpuAsync<T>(string label, ProxyProcess proxy, Func<Task<T>> phase)
        {
            var self = System.Diagnostics.Process.GetCurrentProcess();
            var (r0, p0, b0) = (_registry!.Process.CpuSeconds(), proxy.Process.CpuSeconds(), self.TotalProcessorTime.TotalSeconds);
            var watch = Stopwatch.StartNew();
            var result = await phase();
            self.Refresh();
            _registryCpu = _registry.Process.CpuSeconds() - r0;
            Console.WriteLine($"     cpu {label}: {watch.Elapsed.TotalSeconds:F2} s wall; registry {_registryCpu:F2} s, proxy {proxy.Process.CpuSeconds() - p0:F2} s, bench (client, relay) {self.TotalProcessorTime.TotalSeconds - b0:F2} s");
            return result;
        }

        private static async Task<string> PushBigAsync(OciPusher pusher)
        {
            var digest = "sha256:" + Convert.ToHexStringLower(await SHA256OfAsync(new PatternStream(BlobBytes)));
            using var content = new StreamContent(new PatternStream(BlobBytes), 1 << 20);
            content.Headers.ContentLength = BlobBytes;
            await pusher.PushBlobAsync("bench/big", digest, content);
            await pusher.PushOrasManifestAsync("bench/big", "v1", "big-v1.raw", digest, BlobBytes);
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
        private static async Task<double> TimedAsync(HttpClient http, ProxyProcess proxy, string repository, byte[] expected)
        {
            var watch = Stopwatch.StartNew();
            var body = await GetAsync(http, new Uri(proxy.Url, $"/{repository}/SHA256SUMS"));
            var ms = watch.Elapsed.TotalMilliseconds;
            return body.AsSpan().SequenceEqual(expected) ? ms : throw new InvalidOperationException($"the proxy's SHA256SUMS of {repository} differs from the baseline's");
        }

        private static string Limit(int roundTrips, bool setUp) =>
            $"{(roundTrips + (setUp ? 1 : 0)) * Rtt.TotalMilliseconds:F0} ms ({roundTrips} RTT{(setUp ? " + 1 set-up" : "")})";

        private async Task<byte[]> ChecksumsAsync(RegistryServer registry, ProxyProcess loopbackProxy)
        {
            using var http = OneConnection();
            var rttMs = Rtt.TotalMilliseconds;
            await using var relay = LatencyRelay.Start(registry.Url, Rtt);
            await using var acr = await AcrFacade.StartAsync(registry.Url);
            await using var acrRelay = LatencyRelay.Start(acr.Url, Rtt);
            foreach (var repository in new[] { "bench/warmup" }.Concat(Enumerable.Range(1, ColdRounds).Select(r => $"bench/cold{r}")))
            {
                await acr.PrimeAsync(repository);
            }

            await using var cold = await Proxy.StartCachingAsync(relay.Url);
            await using var relisting = await Proxy.StartAsync(relay.Url, ttl: "00:00:00");
            await using var rechecking = await Proxy.StartAsync(relay.Url, ttl: "00:00:00", "--Cache:TagRecheck=01:00:00");
            await using var acrCold = await Proxy.StartAsync(acrRelay.Url, ttl: "00:00:00", "--Registry:TagListing=acr");

            await WarmUpAsync(http, registry, relay, [loopbackProxy, cold], [relisting, acrCold, rechecking]);

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
            var coldFloor = RegistryFloor(ColdRounds, rounds + 1, baselineMs);
            AddTimed("1", $"cold SHA256SUMS, {Tags} tags, {rttMs} ms RTT", Median(coldTimes), baselineMs, Limit(rounds, setUp: true) + coldFloor, 20);

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
            var relistFloor = RegistryFloor(relist.Count, rounds, baselineMs);
            AddTimed("1b", $"re-list, nothing changed, {rttMs} ms RTT", Median(relist), baselineMs, Limit(rounds, setUp: false) + relistFloor, 40);

            Step("    re-listing with Cache:TagRecheck=01:00:00 (immutable tags): the tag list only, digests known for an hour");
            await TimedAsync(http, rechecking, "bench/cold1", expected[0]);
            var recheckTimes = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                recheckTimes.Add(await TimedAsync(http, rechecking, "bench/cold1", expected[0]));
            }

            AddTimed("1f", $"re-list, Cache:TagRecheck=1h, {rttMs} ms RTT", Median(recheckTimes), baselineMs, Limit(1, setUp: false), null);

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
    }
}
