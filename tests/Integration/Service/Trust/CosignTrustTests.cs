using System.Net;
using SysextFunctions.Sysupdate;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Trust;

/// <summary>Two publisher key pairs made by the real cosign, shared by the tests of a class.</summary>
public sealed class CosignKeysFixture : IAsyncLifetime
{
    internal CosignKeyPair Publisher { get; private set; } = null!;

    internal CosignKeyPair Stranger { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Publisher = await CosignKeyPair.GenerateAsync();
        Stranger = await CosignKeyPair.GenerateAsync();
    }

    public ValueTask DisposeAsync()
    {
        Publisher?.Dispose();
        Stranger?.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// <c>Trust:CosignKeys</c> against the real registry (Debian's docker-registry 2.8, which has no referrers API, so
/// cosign 3 falls back to the referrers tag schema) with signatures made by the real cosign 3 and cosign 2.
/// </summary>
[Collection(RegistryCollection.Name)]
public partial class CosignTrustTests(RegistryServer registry, CosignKeysFixture keys) : IClassFixture<CosignKeysFixture>
{
    private readonly OciPusher _pusher = new(registry.Url);

    [Theory]
    [InlineData(3)]
    [InlineData(2)]
    public async Task Checksums_Signed_ListedAndServed(int version)
    {
        var repository = $"trust/signed{version}/hello";
        var (signed, signedBytes) = await PushAsync(repository, "v1", 1);
        var (_, unsignedBytes) = await PushAsync(repository, "v2", 2);
        await keys.Publisher.SignAsync(version, registry.Url, repository, signed.ManifestDigest);
        await using var proxy = await StartProxyAsync([keys.Publisher.PublicKey]);
        using var client = proxy.CreateClient();

        var sums = await client.GetStringAsync($"/{repository}/SHA256SUMS");
        using var unsigned = await client.GetAsync($"/{repository}/hello-v2.raw");

        Assert.Equal($"{Hex(signedBytes)}  hello-v1.raw\n", sums);
        Assert.Equal(signedBytes, await client.GetByteArrayAsync($"/{repository}/hello-v1.raw"));
        Assert.Equal(HttpStatusCode.NotFound, unsigned.StatusCode);
        Assert.NotEqual(unsignedBytes, signedBytes);
        using var page = new HttpRequestMessage(HttpMethod.Get, $"/{repository}/");
        page.Headers.Accept.ParseAdd("text/html");
        var html = await (await client.SendAsync(page)).Content.ReadAsStringAsync();
        Assert.Contains("cosign: every version listed is signed by the publisher&#x27;s key.", html, StringComparison.Ordinal);
        Assert.DoesNotContain("hello-v2.raw", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checksums_NoKeys_SignatureTagsNeverListed()
    {
        var repository = "trust/nokeys/hello";
        var (signed, bytes) = await PushAsync(repository, "v1", 3);
        await keys.Publisher.SignAsync(3, registry.Url, repository, signed.ManifestDigest);
        await keys.Publisher.SignAsync(2, registry.Url, repository, signed.ManifestDigest);
        var hex = signed.ManifestDigest["sha256:".Length..];
        await using var proxy = await StartProxyAsync([]);
        using var client = proxy.CreateClient();

        var sums = await client.GetStringAsync($"/{repository}/SHA256SUMS");
        using var schemaTag = await client.GetAsync($"/{repository}/hello-sha256-{hex}.raw");
        using var sigTag = await client.GetAsync($"/{repository}/hello-sha256-{hex}.sig.raw");

        Assert.Equal($"{Hex(bytes)}  hello-v1.raw\n", sums);
        Assert.Equal(HttpStatusCode.NotFound, schemaTag.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, sigTag.StatusCode);
    }

    [Fact]
    public async Task Checksums_SignedIndex_PlatformFilesListed()
    {
        var repository = "trust/index/tool";
        var amd64 = Payloads.Random(300, 31);
        var arm64 = Payloads.Random(301, 32);
        var pushedAmd64 = await _pusher.PushOrasArtifactAsync(repository, null, "tool.raw", amd64);
        var pushedArm64 = await _pusher.PushOrasArtifactAsync(repository, null, "tool.raw", arm64);
        var signedIndex = await _pusher.PushIndexAsync(repository, "v1", (pushedAmd64, "linux", "amd64", null), (pushedArm64, "linux", "arm64", null));
        var unsignedAmd64 = await _pusher.PushOrasArtifactAsync(repository, null, "tool.raw", Payloads.Random(302, 33));
        await _pusher.PushIndexAsync(repository, "v2", (unsignedAmd64, "linux", "amd64", null));
        await keys.Publisher.SignAsync(3, registry.Url, repository, signedIndex);
        await using var proxy = await StartProxyAsync([keys.Publisher.PublicKey]);
        using var client = proxy.CreateClient();

        var sums = await client.GetStringAsync($"/{repository}/SHA256SUMS");
        using var unsigned = await client.GetAsync($"/{repository}/tool-v2-x86-64.raw");

        Assert.Equal($"{Hex(arm64)}  tool-v1-arm64.raw\n{Hex(amd64)}  tool-v1-x86-64.raw\n", sums);
        Assert.Equal(arm64, await client.GetByteArrayAsync($"/{repository}/tool-v1-arm64.raw"));
        Assert.Equal(HttpStatusCode.NotFound, unsigned.StatusCode);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(2)]
    public async Task Checksums_SignedByAnotherKey_NotListedAnd404(int version)
    {
        var repository = $"trust/stranger{version}/hello";
        var (image, _) = await PushAsync(repository, "v1", 4);
        await keys.Stranger.SignAsync(version, registry.Url, repository, image.ManifestDigest);
        await using var proxy = await StartProxyAsync([keys.Publisher.PublicKey]);
        using var client = proxy.CreateClient();

        var sums = await client.GetStringAsync($"/{repository}/SHA256SUMS");
        using var file = await client.GetAsync($"/{repository}/hello-v1.raw");

        Assert.Equal(Checksums.NothingLine, sums);
        Assert.Equal(HttpStatusCode.NotFound, file.StatusCode);
        var refusal = Assert.Single(proxy.Log.GetSnapshot(), r => r.Message.Contains(image.ManifestDigest, StringComparison.Ordinal)).Message;
        Assert.Contains("does not verify with any configured key", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checksums_Unsigned_NotListedAndLoggedOncePerDigest()
    {
        var repository = "trust/unsigned/hello";
        var (image, _) = await PushAsync(repository, "v1", 5);
        await using var proxy = await StartProxyAsync([keys.Publisher.PublicKey]);
        using var client = proxy.CreateClient();

        var first = await client.GetStringAsync($"/{repository}/SHA256SUMS");
        var second = await client.GetStringAsync($"/{repository}/SHA256SUMS");
        using var file = await client.GetAsync($"/{repository}/hello-v1.raw");

        Assert.Equal(Checksums.NothingLine, first);
        Assert.Equal(Checksums.NothingLine, second);
        Assert.Equal(HttpStatusCode.NotFound, file.StatusCode);
        var refusal = Assert.Single(proxy.Log.GetSnapshot(), r => r.Message.Contains(image.ManifestDigest, StringComparison.Ordinal)).Message;
        Assert.Contains("no cosign signature", refusal, StringComparison.Ordinal);
    }

    /// <summary>A valid signature of v1, placed where v2's signature would be: it covers v1, so v2 stays out.</summary>
    [Theory]
    [InlineData(3)]
    [InlineData(2)]
    public async Task Checksums_SignatureMovedOntoAnotherDigest_NotListed(int version)
    {
        var repository = $"trust/moved{version}/hello";
        var (v1, v1Bytes) = await PushAsync(repository, "v1", 6);
        var (v2, _) = await PushAsync(repository, "v2", 7);
        await keys.Publisher.SignAsync(version, registry.Url, repository, v1.ManifestDigest);
        var from = version == 3 ? SchemaTag(v1.ManifestDigest) : SchemaTag(v1.ManifestDigest) + ".sig";
        var to = version == 3 ? SchemaTag(v2.ManifestDigest) : SchemaTag(v2.ManifestDigest) + ".sig";
        var (manifest, mediaType) = await GetManifestAsync(repository, from);
        await _pusher.PushManifestAsync(repository, to, mediaType, manifest);
        await using var proxy = await StartProxyAsync([keys.Publisher.PublicKey]);
        using var client = proxy.CreateClient();

        var sums = await client.GetStringAsync($"/{repository}/SHA256SUMS");
        using var moved = await client.GetAsync($"/{repository}/hello-v2.raw");

        Assert.Equal($"{Hex(v1Bytes)}  hello-v1.raw\n", sums);
        Assert.Equal(HttpStatusCode.NotFound, moved.StatusCode);
        var refusal = Assert.Single(proxy.Log.GetSnapshot(), r => r.Message.Contains(v2.ManifestDigest, StringComparison.Ordinal)).Message;
        Assert.Contains($"covers {v1.ManifestDigest}, not this manifest", refusal, StringComparison.Ordinal);
    }

    /// <summary>v1's signature with its payload rewritten to name v2: the signature no longer verifies.</summary>
    [Theory]
    [InlineData(3)]
    [InlineData(2)]
    public async Task Checksums_TamperedPayload_NotListed(int version)
    {
        var repository = $"trust/tampered{version}/hello";
        var (v1, v1Bytes) = await PushAsync(repository, "v1", 8);
        var (v2, _) = await PushAsync(repository, "v2", 9);
        await keys.Publisher.SignAsync(version, registry.Url, repository, v1.ManifestDigest);
        if (version == 3)
        {
            await ForgeCosign3Async(repository, v1.ManifestDigest, v2.ManifestDigest);
        }
        else
        {
            await ForgeCosign2Async(repository, v1.ManifestDigest, v2.ManifestDigest);
        }

        await using var proxy = await StartProxyAsync([keys.Publisher.PublicKey]);
        using var client = proxy.CreateClient();

        var sums = await client.GetStringAsync($"/{repository}/SHA256SUMS");
        using var forged = await client.GetAsync($"/{repository}/hello-v2.raw");

        Assert.Equal($"{Hex(v1Bytes)}  hello-v1.raw\n", sums);
        Assert.Equal(HttpStatusCode.NotFound, forged.StatusCode);
        var refusal = Assert.Single(proxy.Log.GetSnapshot(), r => r.Message.Contains(v2.ManifestDigest, StringComparison.Ordinal)).Message;
        Assert.Contains("does not verify with any configured key", refusal, StringComparison.Ordinal);
    }
}
