using System.Net;
using SysextFunctions.Sysupdate;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

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
        // 503 is push-back: retried after its Retry-After, then passed on as 503.
        { "tags", Fault.Status503, 503 },
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
        { "blobs", Fault.Status503, 503 },
        { "blobs", Fault.Status429, 503 },
        { "blobs", Fault.CutShort, Reset },
        { "blobs", Fault.FlipByte, Reset },
        // A blob may stream as long as it takes, but not stay silent for Registry:Timeout. Cut or stalled on every
        // request, resuming does not help: the client is cut after the last attempt.
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

        relay.Fault = Fault.None;
        using var recovered = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        if (requestKind != "tags")
        {
            Assert.Equal(content, await recovered.Content.ReadAsByteArrayAsync());
        }
    }

    public static TheoryData<string, Fault, Fault?, bool, int> Hiccups => new()
    {
        // The registry resets once after half the blob: resumed from there.
        { "reset", Fault.CutShort, null, false, 2 },
        // It stalls once after half the blob: resumed after Registry:Timeout of silence.
        { "stall", Fault.StallBody, null, false, 2 },
        // Reset, then the first resume answers 503: the second resume delivers.
        { "resume-503", Fault.CutShort, Fault.Status503, false, 3 },
        // Reset, and the registry ignores Range: the whole blob again, what was sent skipped.
        { "no-range", Fault.CutShort, null, true, 2 },
    };

    /// <summary>A registry hiccup in the middle of a streamed blob never reaches the client: it gets the file whole, in one response.</summary>
    [Theory]
    [MemberData(nameof(Hiccups))]
    public async Task Blob_HiccupMidway_ResumedAndDeliveredWhole(string name, Fault fault, Fault? onResume, bool ignoresRange, int blobRequests)
    {
        var content = Payloads.Random(512 * 1024 + 7, name.Length + 100);
        await _pusher.PushOrasArtifactAsync($"faults/hiccup-{name}", "v1", $"hiccup-{name}.raw", content);
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        relay.Applies = target => target.Contains("/blobs/", StringComparison.Ordinal);
        relay.Fault = fault;
        relay.Times = 1;
        relay.RangeFault = onResume;
        relay.RangeTimes = onResume is null ? null : 1;
        relay.IgnoresRange = ignoresRange;
        await using var proxy = await StartProxyAsync(relay.Url);

        var raw = await RawHttp.SendAsync(proxy.Url, $"/faults/hiccup-{name}/hiccup-{name}-v1.raw");

        Assert.Equal(200, raw.Status);
        Assert.Equal(content, raw.BodyBytes);
        Assert.Equal(blobRequests, relay.Requests.Count(r => r.Contains("/blobs/", StringComparison.Ordinal)));
        Assert.Equal(blobRequests - 1, relay.Ranges.Count(r => r.StartsWith("bytes=", StringComparison.Ordinal)));
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
        // Not an empty body, which systemd-pull 254 and 257 fail on: one line naming no file (docs/rollouts.md).
        Assert.Equal(Checksums.NothingLine, await response.Content.ReadAsStringAsync());
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
