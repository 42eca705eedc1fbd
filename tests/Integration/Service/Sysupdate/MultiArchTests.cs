using System.Net;
using System.Security.Cryptography;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Sysupdate;

/// <summary>Image indexes and Docker manifest lists in the real registry, through the proxy on Kestrel.</summary>
[Collection(RegistryCollection.Name)]
public class MultiArchTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Theory]
    [InlineData(MediaTypes.OciIndex)]
    [InlineData(MediaTypes.DockerManifestList)]
    public async Task Checksums_Index_OneFilePerLinuxPlatform(string indexType)
    {
        var repository = indexType == MediaTypes.OciIndex ? "multi/oci/tool" : "multi/docker/tool";
        var amd64 = Payloads.Random(100, 1);
        var arm64 = Payloads.Random(101, 2);
        var arm = Payloads.Random(102, 3);
        var windows = Payloads.Random(103, 4);
        var attestation = Payloads.Random(104, 5);
        var pushedAmd64 = await _pusher.PushOrasArtifactAsync(repository, null, "tool.raw", amd64);
        var pushedArm64 = await _pusher.PushOrasArtifactAsync(repository, null, "tool.raw", arm64);
        var pushedArm = await _pusher.PushOrasArtifactAsync(repository, null, "tool.raw", arm);
        var pushedWindows = await _pusher.PushOrasArtifactAsync(repository, null, "tool.raw", windows);
        var pushedAttestation = await _pusher.PushOrasArtifactAsync(repository, null, "tool.raw", attestation);
        await _pusher.PushIndexAsync(repository, "v1", indexType,
            (pushedAmd64, "linux", "amd64", null),
            (pushedArm64, "linux", "arm64", "v8"),
            (pushedArm, "linux", "arm", "v7"),
            (pushedWindows, "windows", "amd64", null),
            (pushedAttestation, "unknown", "unknown", null));
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        var body = await client.GetStringAsync($"/{repository}/SHA256SUMS");

        Assert.Equal($"{Hex(arm)}  tool-v1-arm.raw\n{Hex(arm64)}  tool-v1-arm64.raw\n{Hex(amd64)}  tool-v1-x86-64.raw\n", body);
    }

    [Fact]
    public async Task File_IndexPlatform_ServesThatPlatformsBlob()
    {
        var amd64 = Payloads.Random(5000, 11);
        var arm64 = Payloads.Random(5001, 12);
        var pushedAmd64 = await _pusher.PushOrasArtifactAsync("multi/file/tool", null, "tool.raw.xz", amd64);
        var pushedArm64 = await _pusher.PushOrasArtifactAsync("multi/file/tool", null, "tool.raw.xz", arm64);
        await _pusher.PushIndexAsync("multi/file/tool", "v2", (pushedAmd64, "linux", "amd64", null), (pushedArm64, "linux", "arm64", null));
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = "stream" });
        using var client = proxy.CreateClient();

        Assert.Equal(arm64, await client.GetByteArrayAsync("/multi/file/tool/tool-v2-arm64.raw.xz"));
        Assert.Equal(amd64, await client.GetByteArrayAsync("/multi/file/tool/tool-v2-x86-64.raw.xz"));
        using var missing = await client.GetAsync("/multi/file/tool/tool-v2-riscv64.raw.xz");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var wrongSuffix = await client.GetAsync("/multi/file/tool/tool-v2-arm64.raw");
        Assert.Equal(HttpStatusCode.NotFound, wrongSuffix.StatusCode);
    }

    [Fact]
    public async Task Checksums_TagWithArchitectureAndIndex_SingleManifestWins()
    {
        var single = Payloads.Random(300, 21);
        var fromIndex = Payloads.Random(301, 22);
        await _pusher.PushOrasArtifactAsync("multi/clash/tool", "v1-x86-64", "tool.raw", single);
        var child = await _pusher.PushOrasArtifactAsync("multi/clash/tool", null, "tool.raw", fromIndex);
        await _pusher.PushIndexAsync("multi/clash/tool", "v1", (child, "linux", "amd64", null));
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        var body = await client.GetStringAsync("/multi/clash/tool/SHA256SUMS");
        var file = await client.GetByteArrayAsync("/multi/clash/tool/tool-v1-x86-64.raw");

        Assert.Equal($"{Hex(single)}  tool-v1-x86-64.raw\n", body);
        Assert.Equal(single, file);
    }

    [Fact]
    public async Task Checksums_IndexEntryWithSeveralLayers_SkipsOnlyThatPlatform()
    {
        var good = Payloads.Random(400, 31);
        var pushedGood = await _pusher.PushOrasArtifactAsync("multi/partial/tool", null, "tool.raw", good);
        var twoLayers = await _pusher.PushMultiLayerImageAsync("multi/partial/tool", null, [1], [2]);
        await _pusher.PushIndexAsync("multi/partial/tool", "v1", (pushedGood, "linux", "arm64", null), (twoLayers, "linux", "amd64", null));
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        var body = await client.GetStringAsync("/multi/partial/tool/SHA256SUMS");

        Assert.Equal($"{Hex(good)}  tool-v1-arm64.raw\n", body);
    }
}
