using System.Net;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

/// <summary>
/// Streaming can't deliver a wrong file: wrong or missing bytes from the registry end in a reset before the
/// client has Content-Length bytes, seen here on the raw socket and through HttpClient.
/// </summary>
[Collection(RegistryCollection.Name)]
public class DeliveryTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);

    [Theory]
    [InlineData(Fault.FlipByte, 2 * 1024 * 1024 + 3)]
    [InlineData(Fault.FlipByte, 1000)]
    [InlineData(Fault.CutShort, 2 * 1024 * 1024 + 3)]
    [InlineData(Fault.CutShort, 1000)]
    public async Task Stream_WrongBytesFromRegistry_ConnectionResetBeforeContentLength(Fault fault, int size)
    {
        // 1000 bytes arrive in one read: the whole file would be on the wire before any check could fail.
        var content = Payloads.Random(size, 21);
        var repository = $"delivery/{fault.ToString().ToLowerInvariant()}/s{size}/file";
        await _pusher.PushOrasArtifactAsync(repository, "v1", "file.raw", content);
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        relay.Applies = target => target.Contains("/blobs/", StringComparison.Ordinal);
        relay.Fault = fault;
        await using var proxy = await ProxyServer.StartAsync(relay.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = "stream" });

        var raw = await RawHttp.SendAsync(proxy.Url, $"/{repository}/file-v1.raw");
        using var client = proxy.CreateClient();
        var viaHttpClient = await Record.ExceptionAsync(() => client.GetByteArrayAsync($"/{repository}/file-v1.raw"));

        // A reset before the headers, a 502 before any byte, or a 200 cut before Content-Length: never a whole file.
        Assert.False(raw.Status == 200 && raw.BodyBytes.Length >= raw.ContentLength, $"client got {raw.BodyBytes.Length} of {raw.ContentLength} bytes");
        Assert.True(raw.Status is null or 200 or 502, $"status {raw.Status}");
        Assert.True(viaHttpClient is HttpRequestException or IOException, $"HttpClient saw {viaHttpClient?.GetType().Name ?? "a complete response"}");

        relay.Fault = Fault.None;
        Assert.Equal(content, await client.GetByteArrayAsync($"/{repository}/file-v1.raw"));
    }

    [Fact]
    public async Task Stream_DockerContentDigestOfAnotherBlob_502BeforeAnyByte()
    {
        var content = Payloads.Random(4096, 22);
        await _pusher.PushOrasArtifactAsync("delivery/labelled/file", "v1", "file.raw", content);
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        relay.Applies = target => target.Contains("/blobs/", StringComparison.Ordinal);
        relay.SetHeaders["Docker-Content-Digest"] = "sha256:" + new string('0', 64);
        await using var proxy = await ProxyServer.StartAsync(relay.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = "stream" });
        using var client = proxy.CreateClient();

        using var labelled = await client.GetAsync("/delivery/labelled/file/file-v1.raw");
        relay.SetHeaders.Clear();
        using var unlabelled = await client.GetAsync("/delivery/labelled/file/file-v1.raw");

        Assert.Equal(HttpStatusCode.BadGateway, labelled.StatusCode);
        Assert.Equal("registry sent a blob with another digest\n", await labelled.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, unlabelled.StatusCode);
        Assert.Equal(content, await unlabelled.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Stream_ContentLengthDisagreesWithManifest_502()
    {
        var content = Payloads.Random(4096, 23);
        await _pusher.PushOrasArtifactAsync("delivery/length/file", "v1", "file.raw", content);
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        relay.Applies = target => target.Contains("/blobs/", StringComparison.Ordinal);
        relay.Rewrite = body => body[..^1];
        await using var proxy = await ProxyServer.StartAsync(relay.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = "stream" });
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/delivery/length/file/file-v1.raw");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }
}
