using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Sysupdate;

/// <summary>
/// Cache:TagRecheck through the proxy on Kestrel against the real registry, with every listing made afresh
/// (Cache:ChecksumsTtl=0) and the registry requests counted: within it, a listing asks for the tag list and new
/// tags only; a re-pushed tag shows up once it is due.
/// </summary>
[Collection(RegistryCollection.Name)]
public class TagRecheckTests(RegistryServer registry)
{
    private static readonly TimeSpan Recheck = TimeSpan.FromMinutes(10);

    private readonly OciPusher _pusher = new(registry.Url);

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private Task<ProxyServer> StartAsync(RequestCounts counts, TimeSpan recheck, FakeTimeProvider clock) =>
        ProxyServer.StartAsync(
            registry.Url,
            new Dictionary<string, string?> { ["Cache:ChecksumsTtl"] = "00:00:00", ["Cache:TagRecheck"] = recheck.ToString() },
            builder =>
            {
                counts.Install()(builder);
                builder.Services.AddSingleton<TimeProvider>(clock);
            });

    [Fact]
    public async Task Checksums_TagRecheckSet_ReListingAsksForTheTagListAndNewTagsOnly()
    {
        foreach (var tag in new[] { "v1", "v2", "v3" })
        {
            await _pusher.PushSmallArtifactAsync("recheck/economy", tag);
        }

        var counts = new RequestCounts();
        await using var proxy = await StartAsync(counts, Recheck, new FakeTimeProvider(DateTimeOffset.UtcNow));
        using var client = proxy.CreateClient();
        var cold = await client.GetStringAsync("/recheck/economy/SHA256SUMS");
        var coldCounts = counts.ToString();

        var relisted = await client.GetStringAsync("/recheck/economy/SHA256SUMS");
        var relistedCounts = counts.ToString();
        await _pusher.PushSmallArtifactAsync("recheck/economy", "v4");
        var withNewTag = await client.GetStringAsync("/recheck/economy/SHA256SUMS");

        Assert.Equal("GET manifest=3, GET tags=1", coldCounts);
        Assert.Equal(cold, relisted);
        Assert.Equal("GET manifest=3, GET tags=2", relistedCounts);
        Assert.Equal(4, withNewTag.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.StartsWith(cold, withNewTag, StringComparison.Ordinal);
        Assert.Equal("GET manifest=4, GET tags=3", counts.ToString());
    }

    [Fact]
    public async Task Checksums_TagRecheckSet_RePushedTagShowsUpWhenDue()
    {
        var (first, second) = (Payloads.Random(64, 31), Payloads.Random(64, 32));
        await _pusher.PushOrasArtifactAsync("recheck/repush", "v1", "repush.raw", first);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(counts, Recheck, clock);
        await using var everyTime = await StartAsync(new RequestCounts(), TimeSpan.Zero, clock);
        using var client = proxy.CreateClient();
        using var everyTimeClient = everyTime.CreateClient();
        var before = await client.GetStringAsync("/recheck/repush/SHA256SUMS");

        await _pusher.PushOrasArtifactAsync("recheck/repush", "v1", "repush.raw", second);
        var notYetDue = await client.GetStringAsync("/recheck/repush/SHA256SUMS");
        var askedEveryTime = await everyTimeClient.GetStringAsync("/recheck/repush/SHA256SUMS");
        clock.Advance(Recheck);
        var due = await client.GetStringAsync("/recheck/repush/SHA256SUMS");

        Assert.Equal($"{Hex(first)}  repush-v1.raw\n", before);
        Assert.Equal(before, notYetDue);
        Assert.Equal($"{Hex(second)}  repush-v1.raw\n", askedEveryTime);
        Assert.Equal(askedEveryTime, due);
        // Due, the tag was settled with one HEAD, then its new manifest fetched by digest.
        Assert.Equal(1, counts["HEAD manifest"]);
        Assert.Equal(1, counts["GET manifest by digest"]);
    }

    [Fact]
    public async Task Start_NegativeTagRecheck_Refused()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(new RequestCounts(), TimeSpan.FromSeconds(-1), new FakeTimeProvider()));

        Assert.Contains("Cache:TagRecheck", failure.ToString(), StringComparison.Ordinal);
    }
}
