using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using SysextFunctions.Tests.Infrastructure;

namespace SysextFunctions.Bench;

/// <summary>The SHA256SUMS phases of the benchmark: cold and warm listings against the seed's baseline.</summary>
internal sealed partial class Side
{
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
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(SysextFunctions.Registry.Oci.MediaTypes.OciManifest));
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
