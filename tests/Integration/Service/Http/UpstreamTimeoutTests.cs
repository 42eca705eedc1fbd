using System.Net;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

/// <summary>Each upstream's own <c>Timeout</c> reaches every place that waits on it, the middle of a blob included.</summary>
[Collection(RegistryCollection.Name)]
public class UpstreamTimeoutTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);

    [Fact]
    public async Task Blob_SecondUpstreamStallsMidBlob_ItsOwnTimeoutEndsTheStream()
    {
        var content = Payloads.Random(512 * 1024 + 3, 13);
        await _pusher.PushOrasArtifactAsync("idle/tool", "v1", "tool.raw", content);
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        relay.Applies = target => target.Contains("/blobs/", StringComparison.Ordinal);
        relay.Fault = Fault.StallBody;
        // The default upstream would wait ten minutes; the stalling one, behind the relay, one second.
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?>
        {
            ["Proxy:BlobDelivery"] = "stream",
            ["Registry:Timeout"] = "00:10:00",
            ["Registries:stalling:Url"] = relay.Url.AbsoluteUri,
            ["Registries:stalling:Timeout"] = "00:00:01",
            ["Mappings:0:Path"] = "stalling/*",
            ["Mappings:0:Repository"] = "idle/*",
            ["Mappings:0:Registry"] = "stalling",
        });
        using var client = proxy.CreateClient();
        // Far below the default's ten minutes, far above the upstream's one second: only the upstream's own
        // timeout can end the stream before the client gives up.
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        using var response = await client.GetAsync("/stalling/tool/tool-v1.raw", HttpCompletionOption.ResponseHeadersRead, patience.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync(patience.Token);
        var e = await Record.ExceptionAsync(() => body.CopyToAsync(Stream.Null, patience.Token));

        // The proxy reset the connection before Content-Length bytes: an I/O failure, not the client giving up.
        Assert.True(e is HttpRequestException or IOException, $"expected the proxy to abort the stream, got {e?.GetType().Name ?? "the whole body"}: {e?.Message}");
        Assert.Contains(relay.Requests, r => r.Contains("/blobs/", StringComparison.Ordinal));
    }
}
