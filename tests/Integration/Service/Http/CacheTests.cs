using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

/// <summary>The SHA256SUMS and manifest caches, through the proxy on Kestrel, against the real registry.</summary>
[Collection(RegistryCollection.Name)]
public class CacheTests(RegistryServer registry)
{
    private static readonly TimeSpan ShortTtl = TimeSpan.FromSeconds(1);

    private readonly OciPusher _pusher = new(registry.Url);

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The proxy's clock: a test moves it past a time to live instead of waiting.</summary>
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    private Task<ProxyServer> StartAsync(RequestCounts counts, TimeSpan? ttl = null)
    {
        var install = counts.Install();
        return ProxyServer.StartAsync(
            registry.Url,
            ttl is { } t ? new Dictionary<string, string?> { ["Cache:ChecksumsTtl"] = t.ToString() } : null,
            builder =>
            {
                install(builder);
                builder.Services.AddSingleton<TimeProvider>(_time);
            });
    }

    [Fact]
    public async Task Checksums_FiftyConcurrentColdRequests_OneTagListFetch()
    {
        await _pusher.PushOrasArtifactAsync("cache/stampede", "v1", "stampede.raw", [1]);
        await _pusher.PushOrasArtifactAsync("cache/stampede", "v2", "stampede.raw", [2]);
        await _pusher.PushOrasArtifactAsync("cache/stampede", "v3", "stampede.raw", [3]);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(counts);
        using var client = proxy.CreateClient();

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => client.GetAsync("/cache/stampede/SHA256SUMS")));
        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(bodies.Distinct());
        Assert.Equal(3, bodies[0].Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(1, counts["GET tags"]);
        // A tag never seen is fetched with one GET and no HEAD.
        Assert.Equal(3, counts["GET manifest"]);
        Assert.Equal(0, counts["HEAD manifest"]);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Checksums_WithinTtl_NoUpstreamRequest()
    {
        await _pusher.PushOrasArtifactAsync("cache/warm", "v1", "warm.raw", [1]);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(counts);
        using var client = proxy.CreateClient();
        var first = await client.GetStringAsync("/cache/warm/SHA256SUMS");
        await _pusher.PushOrasArtifactAsync("cache/warm", "v2", "warm.raw", [2]);

        var second = await client.GetStringAsync("/cache/warm/SHA256SUMS");

        Assert.Equal(first, second);
        Assert.Equal(1, counts["GET tags"]);
        Assert.Equal(1, counts["GET manifest"]);
    }

    [Fact]
    public async Task Checksums_NewTagAfterTtl_Appears()
    {
        var v1 = Payloads.Random(100, 11);
        var v2 = Payloads.Random(100, 12);
        await _pusher.PushOrasArtifactAsync("cache/newtag", "v1", "newtag.raw", v1);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(counts, ShortTtl);
        using var client = proxy.CreateClient();
        var before = await client.GetStringAsync("/cache/newtag/SHA256SUMS");
        await _pusher.PushOrasArtifactAsync("cache/newtag", "v2", "newtag.raw", v2);

        _time.Advance(ShortTtl * 1.5);
        var after = await client.GetStringAsync("/cache/newtag/SHA256SUMS");

        Assert.Equal($"{Hex(v1)}  newtag-v1.raw\n", before);
        Assert.Equal($"{Hex(v1)}  newtag-v1.raw\n{Hex(v2)}  newtag-v2.raw\n", after);
        // v1 was settled by HEAD and its cached manifest; only the new tag needed a GET.
        Assert.Equal(2, counts["GET manifest"]);
        Assert.True(counts["HEAD manifest"] >= 1, counts.ToString());
    }

    [Fact]
    public async Task Checksums_RepushedTagAfterTtl_NewDigest()
    {
        var old = Payloads.Random(100, 21);
        var @new = Payloads.Random(100, 22);
        await _pusher.PushOrasArtifactAsync("cache/repush", "v1", "repush.raw", old);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(counts, ShortTtl);
        using var client = proxy.CreateClient();
        var before = await client.GetStringAsync("/cache/repush/SHA256SUMS");
        await _pusher.PushOrasArtifactAsync("cache/repush", "v1", "repush.raw", @new);

        _time.Advance(ShortTtl * 1.5);
        var after = await client.GetStringAsync("/cache/repush/SHA256SUMS");

        Assert.Equal($"{Hex(old)}  repush-v1.raw\n", before);
        Assert.Equal($"{Hex(@new)}  repush-v1.raw\n", after);
        // The moved tag is fetched by the digest its HEAD announced, not by a tag that could move again.
        Assert.Equal(1, counts["GET manifest by digest"]);
    }

    [Fact]
    public async Task Checksums_UnchangedAfterTtl_SameETagIs304AndOnlyHeads()
    {
        await _pusher.PushOrasArtifactAsync("cache/unchanged", "v1", "unchanged.raw", [1]);
        await _pusher.PushOrasArtifactAsync("cache/unchanged", "v2", "unchanged.raw", [2]);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(counts, ShortTtl);
        using var client = proxy.CreateClient();
        using var first = await client.GetAsync("/cache/unchanged/SHA256SUMS");
        _time.Advance(ShortTtl * 1.5);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/cache/unchanged/SHA256SUMS");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var second = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Equal(2, counts["GET tags"]);
        Assert.Equal(2, counts["GET manifest"]);
        Assert.Equal(2, counts["HEAD manifest"]);
        Assert.Equal(0, counts["GET manifest by digest"]);
    }

    [Fact]
    public async Task Checksums_ZeroTtl_ListsEveryTime()
    {
        await _pusher.PushOrasArtifactAsync("cache/nottl", "v1", "nottl.raw", [1]);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(counts, TimeSpan.Zero);
        using var client = proxy.CreateClient();

        await client.GetStringAsync("/cache/nottl/SHA256SUMS");
        await _pusher.PushOrasArtifactAsync("cache/nottl", "v2", "nottl.raw", [2]);
        var second = await client.GetStringAsync("/cache/nottl/SHA256SUMS");

        Assert.Contains("nottl-v2.raw", second, StringComparison.Ordinal);
        Assert.Equal(2, counts["GET tags"]);
    }

    [Fact]
    public async Task File_AfterListing_ManifestFromCache()
    {
        var content = Payloads.Random(1000, 31);
        await _pusher.PushOrasArtifactAsync("cache/file", "v1", "file.raw", content);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(counts);
        using var client = proxy.CreateClient();
        await client.GetStringAsync("/cache/file/SHA256SUMS");

        var bytes = await client.GetByteArrayAsync("/cache/file/file-v1.raw");

        Assert.Equal(content, bytes);
        Assert.Equal(1, counts["GET manifest"]);
        Assert.Equal(1, counts["HEAD manifest"]);
    }
}
