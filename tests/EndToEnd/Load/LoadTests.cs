using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Load;

/// <summary>A registry of its own, and nothing else running: the load figures are about this service alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoadCollection : ICollectionFixture<RegistryServer>
{
    public const string Name = "load";
}

/// <summary>
/// Bounded load on loopback: 100 clients each streaming a 50 MiB file through us, and 1000 concurrent SHA256SUMS
/// requests, at the same time. Every byte is hashed, the process's memory and thread pool are sampled, and a
/// probe request measures how long a newcomer waits. The figures are printed for the README.
/// </summary>
[Collection(LoadCollection.Name)]
public class LoadTests(RegistryServer registry, ITestOutputHelper output)
{
    private const int Downloads = 100;
    private const int FileSize = 50 * 1024 * 1024;
    private const int ChecksumRequests = 1000;

    /// <summary>Every this many bytes streamed (of 5000 MiB in all), the sampler and the probe each run once.</summary>
    private const long ProgressStep = 32L * 1024 * 1024;

    /// <summary>Upper bounds, past which the test fails: a newcomer's wait (starvation, not speed) and the whole run.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Load_100Downloads1000Listings_EveryByteRightMemoryBoundedNoStarvation()
    {
        var content = Payloads.Random(FileSize, 50);
        var digest = SHA256.HashData(content);
        await new OciPusher(registry.Url).PushOrasArtifactAsync("load/big", "v1", "big.raw", content);
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?>
        {
            ["Proxy:BlobDelivery"] = "stream",
            ["Registry:Timeout"] = "00:01:00",
            // Every listing goes to the registry: the load is the 1000 listings, not one cached answer.
            ["Cache:ChecksumsTtl"] = "00:00:00",
        });
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = int.MaxValue })
        {
            BaseAddress = proxy.Url,
            Timeout = TimeSpan.FromMinutes(2),
        };
        var expectedList = await client.GetByteArrayAsync("/load/big/SHA256SUMS");
        Assert.Equal(Convert.ToHexStringLower(digest) + "  big-v1.raw\n", System.Text.Encoding.ASCII.GetString(expectedList));

        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var baseline = process.WorkingSet64;
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        using var progress = new Progress();
        var sampler = SampleAsync(process, progress, stop.Token);
        var probe = ProbeAsync(client, progress, stop.Token);

        var downloads = Enumerable.Range(0, Downloads).Select(_ => DownloadAsync(client, "/load/big/big-v1.raw", progress)).ToArray();
        // The listings start once the downloads have begun to stream, so that the two overlap. (Waiting for all 100
        // to stream first makes the listings meet a registry saturated on these 2 cores, whose slow answers then
        // open the circuit breaker: a test of the registry's CPU, not of ours.)
        await Within(progress.FirstStreaming, "the first download to start streaming", clock);
        var listings = Enumerable.Range(0, ChecksumRequests).Select(_ => client.GetByteArrayAsync("/load/big/SHA256SUMS")).ToArray();
        var lists = await Within(Task.WhenAll(listings), $"{ChecksumRequests} listings", clock);
        var listingsDone = clock.Elapsed;
        var files = await Within(Task.WhenAll(downloads), $"{Downloads} downloads", clock);
        var elapsed = clock.Elapsed;
        await stop.CancelAsync();
        var (peakWorkingSet, peakPending, peakThreads) = await sampler;
        var probes = await probe;
        Assert.True(probes.Count > 0, "no probe ran during the load");

        var megabytes = (double)Downloads * FileSize / (1024 * 1024);
        output.WriteLine($"{Downloads} x {FileSize / (1024 * 1024)} MiB downloads + {ChecksumRequests} SHA256SUMS: {elapsed.TotalSeconds:F1} s ({megabytes / elapsed.TotalSeconds:F0} MiB/s); listings done after {listingsDone.TotalSeconds:F1} s");
        output.WriteLine($"working set: baseline {baseline / (1024 * 1024)} MiB, peak {peakWorkingSet / (1024 * 1024)} MiB (+{(peakWorkingSet - baseline) / (1024 * 1024)} MiB); GC heap after {GC.GetTotalMemory(false) / (1024 * 1024)} MiB, gen2 collections {GC.CollectionCount(2)}");
        output.WriteLine($"thread pool: peak threads {peakThreads}, peak pending work items {peakPending}");
        output.WriteLine($"probe GET / during load: {probes.Count} probes, median {Percentile(probes, 0.5):F0} ms, p99 {Percentile(probes, 0.99):F0} ms, max {probes.Max():F0} ms");

        Assert.All(files, f => Assert.Equal((FileSize, Convert.ToHexStringLower(digest)), f));
        Assert.All(lists, l => Assert.Equal(expectedList, l));
        // 5000 MiB went through; the process grew by a small fraction of it.
        Assert.True(peakWorkingSet - baseline < 768L * 1024 * 1024, $"working set grew by {(peakWorkingSet - baseline) / (1024 * 1024)} MiB");
        // Starvation showed as a probe waiting for seconds: each had ProbeTimeout at most (room for a busy 2-core
        // machine; typical figures are in docs/performance.md), so that it fails on starvation, not on a slow run.
    }

    /// <summary>
    /// Awaits <paramref name="task"/>, failing with a clear message once the run has taken <see cref="RunTimeout"/>
    /// since <paramref name="clock"/> started (an upper bound, not a measure).
    /// </summary>
    private static async Task Within(Task task, string what, Stopwatch clock)
    {
        var left = RunTimeout - clock.Elapsed;
        try
        {
            await task.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{what}: not done {RunTimeout} into the run", e);
        }
    }

    private static async Task<T> Within<T>(Task<T> task, string what, Stopwatch clock)
    {
        await Within((Task)task, what, clock);
        return await task;
    }

    private static async Task<(long Bytes, string Sha256)> DownloadAsync(HttpClient client, string path, Progress progress)
    {
        using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        progress.Streaming();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            total += read;
            progress.Add(read);
        }

        return (total, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>The process's peak working set and thread pool, sampled at every <see cref="ProgressStep"/> streamed.</summary>
    private static async Task<(long WorkingSet, long Pending, int Threads)> SampleAsync(Process process, Progress progress, CancellationToken cancellationToken)
    {
        long workingSet = 0, pending = 0;
        var threads = 0;
        while (await progress.NextSampleAsync(cancellationToken))
        {
            process.Refresh();
            workingSet = Math.Max(workingSet, process.WorkingSet64);
            pending = Math.Max(pending, ThreadPool.PendingWorkItemCount);
            threads = Math.Max(threads, ThreadPool.ThreadCount);
        }

        return (workingSet, pending, threads);
    }

    /// <summary>
    /// A newcomer's wait: GET / from a client of its own at every <see cref="ProgressStep"/> streamed, in
    /// milliseconds; one that takes longer than <see cref="ProbeTimeout"/> fails the test.
    /// </summary>
    private static async Task<List<double>> ProbeAsync(HttpClient loaded, Progress progress, CancellationToken cancellationToken)
    {
        var latencies = new ConcurrentBag<double>();
        using var fresh = new HttpClient { BaseAddress = loaded.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        while (await progress.NextProbeAsync(cancellationToken))
        {
            var clock = Stopwatch.StartNew();
            try
            {
                using var response = await fresh.GetAsync("/", CancellationToken.None).WaitAsync(ProbeTimeout, CancellationToken.None);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"a probe GET / waited more than {ProbeTimeout} during the load: starvation");
            }

            latencies.Add(clock.Elapsed.TotalMilliseconds);
        }

        return [.. latencies];
    }

    /// <summary>
    /// What the downloads signal as they go: when the first of them streams, and each <see cref="ProgressStep"/> of bytes
    /// (a step passed while the sampler or the probe is busy is counted, and runs it again once it is free).
    /// </summary>
    private sealed class Progress : IDisposable
    {
        private readonly TaskCompletionSource _firstStreaming = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly SemaphoreSlim _sample = new(0);
        private readonly SemaphoreSlim _probe = new(0);
        private long _bytes;

        public Task FirstStreaming => _firstStreaming.Task;

        public void Streaming() => _firstStreaming.TrySetResult();

        public void Add(int count)
        {
            var after = Interlocked.Add(ref _bytes, count);
            if (after / ProgressStep != (after - count) / ProgressStep)
            {
                _sample.Release();
                _probe.Release();
            }
        }

        /// <summary>True at the next step; false once <paramref name="cancellationToken"/> says the load is over.</summary>
        public Task<bool> NextSampleAsync(CancellationToken cancellationToken) => NextAsync(_sample, cancellationToken);

        public Task<bool> NextProbeAsync(CancellationToken cancellationToken) => NextAsync(_probe, cancellationToken);

        public void Dispose()
        {
            _sample.Dispose();
            _probe.Dispose();
        }

        private static async Task<bool> NextAsync(SemaphoreSlim step, CancellationToken cancellationToken)
        {
            try
            {
                await step.WaitAsync(cancellationToken);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }
}
