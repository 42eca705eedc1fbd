using Microsoft.Extensions.Logging.Abstractions;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Layout;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Unit.Registry.Layout;

public sealed class OciLayoutSourceTests : IDisposable
{
    private readonly TempDirectory _root = new("sysext-layout-");
    private readonly OciLayoutSource _source;

    public OciLayoutSourceTests()
    {
        _source = new OciLayoutSource(_root.Path, UpstreamTimeouts.Default, NullLogger<OciLayoutSource>.Instance);
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task ListTagsAsync_RefNames_ValidTagsOnly()
    {
        var layout = new OciLayoutWriter(_root.Combine("sysexts", "tool"));
        layout.AddOrasArtifact("v1", "tool.raw", [1]);
        layout.AddOrasArtifact("v2", "tool.raw", [2]);
        layout.AddOrasArtifact("not a tag", "tool.raw", [3]);
        layout.AddOrasArtifact(null, "tool.raw", [4]);

        var tags = await _source.ListTagsAsync("sysexts/tool");

        Assert.Equal(["v1", "v2"], tags);
    }

    [Theory]
    [InlineData("sysexts/none")]
    [InlineData("../etc")]
    [InlineData("Sysexts/Tool")]
    public async Task ListTagsAsync_NoLayout_NotFound(string repository)
    {
        var e = await Assert.ThrowsAsync<RegistryException>(() => _source.ListTagsAsync(repository));

        Assert.Equal(RegistryFailure.NotFound, e.Failure);
    }

    [Fact]
    public async Task GetManifestAsync_TagAndDigest_SameManifest()
    {
        var layout = new OciLayoutWriter(_root.Combine("tool"));
        var pushed = layout.AddOrasArtifact("v1", "tool.raw.xz", [1, 2, 3]);

        var byTag = await _source.GetManifestAsync("tool", "v1");
        var byDigest = await _source.GetManifestAsync("tool", pushed.ManifestDigest);
        var resolved = await _source.ResolveAsync("tool", "v1");

        Assert.Equal(pushed.ManifestDigest, byTag.Digest.ToString());
        Assert.Equal(byTag.Digest, byDigest.Digest);
        Assert.Equal(byTag.Digest, resolved);
        Assert.Equal("tool.raw.xz", Assert.Single(byTag.Manifest.Layers!).Title);
        Assert.Equal(MediaTypes.OciManifest, byTag.Manifest.MediaType);
    }

    [Fact]
    public async Task GetManifestAsync_UnknownTag_NotFound()
    {
        new OciLayoutWriter(_root.Combine("tool")).AddOrasArtifact("v1", "tool.raw", [1]);

        var e = await Assert.ThrowsAsync<RegistryException>(() => _source.GetManifestAsync("tool", "v9"));

        Assert.Equal(RegistryFailure.NotFound, e.Failure);
    }

    [Fact]
    public async Task GetManifestAsync_CorruptBlob_InvalidResponse()
    {
        var pushed = new OciLayoutWriter(_root.Combine("tool")).AddOrasArtifact("v1", "tool.raw", [1]);
        await File.WriteAllTextAsync(_root.Combine("tool", "blobs", "sha256", Digest.Parse(pushed.ManifestDigest).Encoded), """{"schemaVersion":2}""");

        var e = await Assert.ThrowsAsync<RegistryException>(() => _source.GetManifestAsync("tool", "v1"));

        Assert.Equal(RegistryFailure.InvalidResponse, e.Failure);
    }

    [Fact]
    public async Task GetBlobAsync_Streams_NeverRedirects()
    {
        var content = Payloads.Random(70_000, 5);
        var pushed = new OciLayoutWriter(_root.Combine("tool")).AddOrasArtifact("v1", "tool.raw", content);
        var digest = Digest.Parse(pushed.LayerDigest);

        using var blob = await _source.GetBlobAsync("tool", digest, followRedirects: false);
        using var read = new MemoryStream();
        await blob.Content!.CopyToAsync(read);

        Assert.Null(blob.RedirectTo);
        Assert.Equal(content.Length, blob.Length);
        Assert.Equal(content, read.ToArray());
        Assert.Null(_source.BlobUri("tool", digest));
    }

    [Fact]
    public async Task GetBlobAsync_Missing_NotFound()
    {
        new OciLayoutWriter(_root.Combine("tool")).AddOrasArtifact("v1", "tool.raw", [1]);

        var e = await Assert.ThrowsAsync<RegistryException>(() => _source.GetBlobAsync("tool", Digest.Sha256(new byte[32]), followRedirects: true));

        Assert.Equal(RegistryFailure.NotFound, e.Failure);
    }
}
