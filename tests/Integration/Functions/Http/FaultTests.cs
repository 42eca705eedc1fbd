using System.Diagnostics;
using System.Net;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Functions.Http;

/// <summary>
/// Faults injected between us and the real registry, one table row each: the status we answer, within the
/// timeouts, never a wrong file, and service resuming once the registry behaves again.
/// </summary>
[Collection(RegistryCollection.Name)]
public class FaultTests(RegistryServer registry)
{
    /// <summary>Expected "status" of faults that break a blob mid-stream: a reset or a 502, never the whole file.</summary>
    private const int Reset = 0;

    private readonly OciPusher _pusher = new(registry.Url);

    public static TheoryData<string, Fault, int> Table => new()
    {
        // Tag list, asked for by SHA256SUMS.
        { "tags", Fault.Reset, 502 },
        { "tags", Fault.Stall, 504 },
        { "tags", Fault.Status500, 502 },
        { "tags", Fault.Status503, 502 },
        { "tags", Fault.Status429, 503 },
        { "tags", Fault.MalformedJson, 502 },
        { "tags", Fault.StallBody, 504 },
        // Manifest, asked for by a file request; a manifest we cannot read makes its tag unusable: no such file.
        { "manifests", Fault.Reset, 502 },
        { "manifests", Fault.Stall, 504 },
        { "manifests", Fault.Status500, 502 },
        { "manifests", Fault.Status429, 503 },
        { "manifests", Fault.MalformedJson, 404 },
        { "manifests", Fault.OversizedManifest, 404 },
        { "manifests", Fault.StallBody, 504 },
        // Blob, streamed.
        { "blobs", Fault.Reset, 502 },
        { "blobs", Fault.Stall, 504 },
        { "blobs", Fault.Status500, 502 },
        { "blobs", Fault.Status503, 502 },
        { "blobs", Fault.Status429, 503 },
        { "blobs", Fault.CutShort, Reset },
        { "blobs", Fault.FlipByte, Reset },
        // A blob may stream as long as it takes, but not stay silent for Registry:Timeout.
        { "blobs", Fault.StallBody, Reset },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public async Task Fault_AnsweredWithinTimeouts_ThenServiceResumes(string requestKind, Fault fault, int expected)
    {
        var name = $"{requestKind}-{fault.ToString().ToLowerInvariant()}";
        var content = Payloads.Random(512 * 1024 + 7, name.Length);
        await _pusher.PushOrasArtifactAsync($"faults/{name}", "v1", $"{name}.raw", content);
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        relay.Applies = target => target.Contains($"/{requestKind}/", StringComparison.Ordinal);
        relay.Fault = fault;
        await using var proxy = await StartProxyAsync(relay.Url);
        using var client = proxy.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(30);
        var path = requestKind == "tags" ? $"/faults/{name}/SHA256SUMS" : $"/faults/{name}/{name}-v1.raw";
        var clock = Stopwatch.StartNew();

        if (expected == Reset)
        {
            var raw = await RawHttp.SendAsync(proxy.Url, path);
            Assert.False(raw.Status == 200 && raw.BodyBytes.Length >= raw.ContentLength, $"client got {raw.BodyBytes.Length} of {raw.ContentLength} bytes");
            Assert.True(raw.Status is null or 200 or 502, $"status {raw.Status}");
        }
        else
        {
            using var response = await client.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
            Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', body.TrimEnd('\n'));
            if (fault == Fault.Status429)
            {
                Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
            }
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        relay.Fault = Fault.None;
        using var recovered = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        if (requestKind != "tags")
        {
            Assert.Equal(content, await recovered.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task Refused_502ThenResumesWhenRegistryListensAgain()
    {
        await _pusher.PushOrasArtifactAsync("faults/refused", "v1", "refused.raw", [7, 7]);
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        await using var proxy = await StartProxyAsync(relay.Url);
        using var client = proxy.CreateClient();
        await relay.RefuseAsync();

        using var refused = await client.GetAsync("/faults/refused/SHA256SUMS");
        using var alive = await client.GetAsync("/");
        await relay.ListenAsync();
        using var recovered = await client.GetAsync("/faults/refused/SHA256SUMS");

        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Contains("refused-v1.raw", await recovered.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OversizedManifest_ListingSkipsTheTag()
    {
        await _pusher.PushOrasArtifactAsync("faults/oversized", "v1", "oversized.raw", [1]);
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        relay.Applies = target => target.Contains("/manifests/", StringComparison.Ordinal);
        relay.Fault = Fault.OversizedManifest;
        await using var proxy = await StartProxyAsync(relay.Url);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/faults/oversized/SHA256SUMS");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    private static Task<ProxyServer> StartProxyAsync(Uri registry) => ProxyServer.StartAsync(registry, new Dictionary<string, string?>
    {
        ["Proxy:BlobDelivery"] = "stream",
        ["Registry:Timeout"] = "00:00:03",
        ["Registry:Resilience:AttemptTimeout"] = "00:00:00.500",
        ["Registry:Resilience:MaxRetries"] = "1",
        ["Registry:Resilience:RetryDelay"] = "00:00:00.050",
    });
}
