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
        var sampler = SampleAsync(process, stop.Token);
        var probe = ProbeAsync(client, stop.Token);

        var downloads = Enumerable.Range(0, Downloads).Select(_ => DownloadAsync(client, "/load/big/big-v1.raw")).ToArray();
        await Task.Delay(500);
        var listings = Enumerable.Range(0, ChecksumRequests).Select(_ => client.GetByteArrayAsync("/load/big/SHA256SUMS")).ToArray();
        var lists = await Task.WhenAll(listings);
        var listingsDone = clock.Elapsed;
        var files = await Task.WhenAll(downloads);
        var elapsed = clock.Elapsed;
        await stop.CancelAsync();
        var (peakWorkingSet, peakPending, peakThreads) = await sampler;
        var probes = await probe;

        var megabytes = (double)Downloads * FileSize / (1024 * 1024);
        output.WriteLine($"{Downloads} x {FileSize / (1024 * 1024)} MiB downloads + {ChecksumRequests} SHA256SUMS: {elapsed.TotalSeconds:F1} s ({megabytes / elapsed.TotalSeconds:F0} MiB/s); listings done after {listingsDone.TotalSeconds:F1} s");
        output.WriteLine($"working set: baseline {baseline / (1024 * 1024)} MiB, peak {peakWorkingSet / (1024 * 1024)} MiB (+{(peakWorkingSet - baseline) / (1024 * 1024)} MiB); GC heap after {GC.GetTotalMemory(false) / (1024 * 1024)} MiB, gen2 collections {GC.CollectionCount(2)}");
        output.WriteLine($"thread pool: peak threads {peakThreads}, peak pending work items {peakPending}");
        output.WriteLine($"probe GET / during load: {probes.Count} probes, median {Percentile(probes, 0.5):F0} ms, p99 {Percentile(probes, 0.99):F0} ms, max {probes.Max():F0} ms");

        Assert.All(files, f => Assert.Equal((FileSize, Convert.ToHexStringLower(digest)), f));
        Assert.All(lists, l => Assert.Equal(expectedList, l));
        // 5000 MiB went through; the process grew by a small fraction of it.
        Assert.True(peakWorkingSet - baseline < 768L * 1024 * 1024, $"working set grew by {(peakWorkingSet - baseline) / (1024 * 1024)} MiB");
        // Starvation shows as probes waiting many seconds; the bound leaves room for a busy 2-core machine
        // (typical figures are in the README), so that it fails only on starvation, not on a slow run.
        Assert.True(probes.Count > 0 && probes.Max() < 5000, $"probe max {probes.DefaultIfEmpty().Max():F0} ms");
        Assert.True(elapsed < TimeSpan.FromMinutes(2), $"took {elapsed}");
    }

    private static async Task<(long Bytes, string Sha256)> DownloadAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            total += read;
        }

        return (total, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    private static async Task<(long WorkingSet, long Pending, int Threads)> SampleAsync(Process process, CancellationToken cancellationToken)
    {
        long workingSet = 0, pending = 0;
        var threads = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            process.Refresh();
            workingSet = Math.Max(workingSet, process.WorkingSet64);
            pending = Math.Max(pending, ThreadPool.PendingWorkItemCount);
            threads = Math.Max(threads, ThreadPool.ThreadCount);
            await Task.Delay(100, CancellationToken.None);
        }

        return (workingSet, pending, threads);
    }

    /// <summary>A newcomer's wait: GET / every 250 ms on a fresh connection, in milliseconds.</summary>
    private static async Task<List<double>> ProbeAsync(HttpClient loaded, CancellationToken cancellationToken)
    {
        var latencies = new ConcurrentBag<double>();
        using var fresh = new HttpClient { BaseAddress = loaded.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        while (!cancellationToken.IsCancellationRequested)
        {
            var clock = Stopwatch.StartNew();
            using (var response = await fresh.GetAsync("/", CancellationToken.None))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            latencies.Add(clock.Elapsed.TotalMilliseconds);
            await Task.Delay(250, CancellationToken.None);
        }

        return [.. latencies];
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }
}
