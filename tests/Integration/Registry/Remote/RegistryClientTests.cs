using Microsoft.Extensions.Logging.Abstractions;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Registry.Remote;

[Collection(RegistryCollection.Name)]
public class RegistryClientTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);

    private RegistryClient Client(TimeSpan? timeout = null) =>
        new(new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }), registry.Url, new UpstreamTimeouts(timeout ?? TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10)), TimeProvider.System, NullLogger<RegistryClient>.Instance);

    [Fact]
    public async Task ListTagsAsync_PushedTags_ReturnsAll()
    {
        await _pusher.PushOrasArtifactAsync("client/tags", "v1", "a.raw", [1]);
        await _pusher.PushOrasArtifactAsync("client/tags", "v2", "a.raw", [2]);

        var tags = await Client().ListTagsAsync("client/tags");

        Assert.Equal(["v1", "v2"], tags.Order());
    }

    [Fact]
    public async Task ListTagsAsync_UnknownRepository_ThrowsNotFound()
    {
        var e = await Assert.ThrowsAsync<RegistryException>(() => Client().ListTagsAsync("client/nothing-here"));

        Assert.Equal(RegistryFailure.NotFound, e.Failure);
        Assert.Equal("NAME_UNKNOWN", e.Code);
    }

    [Fact]
    public async Task GetManifestAsync_OrasArtifact_ParsesLayerAndDigest()
    {
        var pushed = await _pusher.PushOrasArtifactAsync("client/manifest", "v1", "kubernetes.raw", [1, 2, 3]);

        var response = await Client().GetManifestAsync("client/manifest", "v1");

        Assert.Equal(pushed.ManifestDigest, response.Digest.ToString());
        Assert.Equal(MediaTypes.OciManifest, response.Manifest.MediaType);
        var layer = Assert.Single(response.Manifest.Layers!);
        Assert.Equal(pushed.LayerDigest, layer.Digest);
        Assert.Equal("kubernetes.raw", layer.Title);
        Assert.Equal(3, layer.Size);
    }

    [Fact]
    public async Task ResolveAsync_Tag_ReturnsManifestDigest()
    {
        var pushed = await _pusher.PushDockerImageAsync("client/resolve", "v1", Payloads.TarGz(("file", "x")));

        var digest = await Client().ResolveAsync("client/resolve", "v1");

        Assert.Equal(pushed.ManifestDigest, digest?.ToString());
    }

    [Fact]
    public async Task GetBlobAsync_LocalRegistry_StreamsContentWithoutRedirect()
    {
        var content = Payloads.Random(100_000, 1);
        var pushed = await _pusher.PushOrasArtifactAsync("client/blob", "v1", "a.raw", content);

        using var blob = await Client().GetBlobAsync("client/blob", Digest.Parse(pushed.LayerDigest), followRedirects: false);

        Assert.Null(blob.RedirectTo);
        Assert.Equal(content.Length, blob.Length);
        using var read = new MemoryStream();
        await blob.Content!.CopyToAsync(read);
        Assert.Equal(content, read.ToArray());
    }

    [Fact]
    public async Task GetBlobAsync_UnknownDigest_ThrowsNotFound()
    {
        await _pusher.PushOrasArtifactAsync("client/blob-missing", "v1", "a.raw", [1]);

        var e = await Assert.ThrowsAsync<RegistryException>(() =>
            Client().GetBlobAsync("client/blob-missing", Digest.Sha256(new byte[32]), followRedirects: true));

        Assert.Equal(RegistryFailure.NotFound, e.Failure);
    }

    [Fact]
    public async Task ListTagsAsync_NothingListening_ThrowsUnavailable()
    {
        var closed = new RegistryClient(new HttpClient(), new Uri($"http://127.0.0.1:{FreePort.Next()}"), new UpstreamTimeouts(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5)), TimeProvider.System, NullLogger<RegistryClient>.Instance);

        var e = await Assert.ThrowsAsync<RegistryException>(() => closed.ListTagsAsync("any"));

        Assert.Equal(RegistryFailure.Unavailable, e.Failure);
    }
}
