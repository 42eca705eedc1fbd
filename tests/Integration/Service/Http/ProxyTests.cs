using System.Net;
using System.Security.Cryptography;
using System.Text;
using SysextFunctions.Sysupdate;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

/// <summary>The standalone host on Kestrel in front of the real registry.</summary>
[Collection(RegistryCollection.Name)]
public class ProxyTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task Checksums_ThreeShapes_OneLinePerTagInOrder()
    {
        var raw = Payloads.Random(4096, 2);
        var docker = Payloads.TarGz(("usr/lib/extension-release.d/extension-release.shapes", "ID=_any\n"));
        var oci = Payloads.TarGz(("usr/bin/tool", "#!/bin/sh\n"));
        await _pusher.PushOrasArtifactAsync("proxy/shapes", "v1.0-x86-64", "shapes-v1.0-x86-64.raw", raw);
        await _pusher.PushDockerImageAsync("proxy/shapes", "v2.0", docker);
        await _pusher.PushOciImageAsync("proxy/shapes", "v3.0", oci);
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/proxy/shapes/SHA256SUMS");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.ETag);
        Assert.Equal(
            $"{Hex(raw)}  shapes-v1.0-x86-64.raw\n{Hex(docker)}  shapes-v2.0.tar.gz\n{Hex(oci)}  shapes-v3.0.tar.gz\n",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Checksums_UnusableTags_SkippedNotFatal()
    {
        var good = Payloads.Random(10, 3);
        await _pusher.PushOrasArtifactAsync("proxy/mixed", "v1", "mixed.raw", good);
        await _pusher.PushMultiLayerImageAsync("proxy/mixed", "two-layers", [1], [2]);
        var image = await _pusher.PushOrasArtifactAsync("proxy/mixed", "arch-only", "mixed.raw", [9]);
        // An index without a Linux platform has nothing sysupdate could install.
        await _pusher.PushIndexAsync("proxy/mixed", "an-index", (image, "windows", "amd64", null), (image, "unknown", "unknown", null));
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        var body = await client.GetStringAsync("/proxy/mixed/SHA256SUMS");

        Assert.Contains($"{Hex(good)}  mixed-v1.raw\n", body, StringComparison.Ordinal);
        Assert.DoesNotContain("two-layers", body, StringComparison.Ordinal);
        Assert.DoesNotContain("an-index", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checksums_IfNoneMatch_Is304()
    {
        await _pusher.PushOrasArtifactAsync("proxy/etag", "v1", "etag.raw", [1]);
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();
        using var first = await client.GetAsync("/proxy/etag/SHA256SUMS");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/proxy/etag/SHA256SUMS");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var second = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task Checksums_UnknownRepository_Is404()
    {
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/proxy/never-pushed/SHA256SUMS");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Checksums_AllTagsUnusable_NothingOfferedLine()
    {
        await _pusher.PushMultiLayerImageAsync("proxy/unusable", "v1", [1], [2]);
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/proxy/unusable/SHA256SUMS");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Not an empty body, which systemd-pull 254 and 257 fail on: one line naming no file (docs/rollouts.md).
        Assert.Equal(Checksums.NothingLine, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("stream")]
    [InlineData("auto")]
    public async Task File_StreamingModes_DeliverExactBytes(string mode)
    {
        var content = Payloads.Random(3 * 1024 * 1024 + 17, 4);
        var pushed = await _pusher.PushOrasArtifactAsync("proxy/stream", "v1", "stream.raw", content);
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = mode });
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/proxy/stream/stream-v1.raw");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(content.Length, response.Content.Headers.ContentLength);
        Assert.Equal($"\"{pushed.LayerDigest}\"", response.Headers.ETag?.Tag);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task File_BlobCorruptedInRegistry_NeverDeliveredComplete()
    {
        var content = Payloads.Random(2 * 1024 * 1024 + 5, 7);
        var pushed = await _pusher.PushOrasArtifactAsync("proxy/corrupt", "v1", "corrupt.raw", content);
        // Same length, other bytes: only the digest can tell, and only after the last byte.
        var hex = pushed.LayerDigest["sha256:".Length..];
        var stored = Path.Combine(registry.StorageDirectory, "data", "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
        var corrupted = (byte[])content.Clone();
        corrupted[^1] ^= 0xff;
        await File.WriteAllBytesAsync(stored, corrupted);
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = "stream" });
        using var client = proxy.CreateClient();

        var e = await Record.ExceptionAsync(() => client.GetByteArrayAsync("/proxy/corrupt/corrupt-v1.raw"));

        Assert.True(e is HttpRequestException or IOException, $"expected a broken transfer, got {e?.GetType().Name ?? "the whole body"}");
    }

    [Fact]
    public async Task File_RedirectMode_Is307ToRegistryBlob()
    {
        var pushed = await _pusher.PushOrasArtifactAsync("proxy/redirect", "v1", "redirect.raw", [5, 6]);
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = "redirect" });
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/proxy/redirect/redirect-v1.raw");

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Equal(new Uri(registry.Url, $"/v2/proxy/redirect/blobs/{pushed.LayerDigest}"), response.Headers.Location);
        using var direct = new HttpClient();
        Assert.Equal([5, 6], await direct.GetByteArrayAsync(response.Headers.Location));
    }

    [Fact]
    public async Task File_Head_AnswersLengthWithoutBody()
    {
        var pushed = await _pusher.PushOrasArtifactAsync("proxy/head", "v1", "head.raw", new byte[1234]);
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/proxy/head/head-v1.raw"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1234, response.Content.Headers.ContentLength);
        Assert.Equal($"\"{pushed.LayerDigest}\"", response.Headers.ETag?.Tag);
    }

    [Theory]
    [InlineData("/proxy/files/files-v9.raw")]
    [InlineData("/proxy/files/files-v1.tar.gz")]
    [InlineData("/proxy/files/other-v1.raw")]
    [InlineData("/proxy/files/files-v1.zip")]
    [InlineData("/proxy/files/SHA256SUMS.gpg")]
    [InlineData("/proxy/files/SHA256SUMS.asc")]
    [InlineData("/proxy/files/SHA256SUMS.sha256.asc")]
    [InlineData("/proxy/files/SHA256SUMS.sha256.gpg")]
    public async Task File_NotServed_IsExactly404(string path)
    {
        await _pusher.PushOrasArtifactAsync("proxy/files", "v1", "files.raw", [1]);
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task BadPath_Is400WithOneLineReason()
    {
        await using var proxy = await ProxyServer.StartAsync(registry.Url);

        var response = await RawHttp.SendAsync(proxy.Url, "/proxy/%2e%2e/SHA256SUMS");

        Assert.Equal(400, response.Status);
        Assert.Equal("percent-encoded characters are not allowed\n", response.Body);
    }

    [Fact]
    public async Task RegistryDown_Is502AndServiceKeepsServing()
    {
        await using var proxy = await ProxyServer.StartAsync(new Uri($"http://127.0.0.1:{FreePort.Next()}"));
        using var client = proxy.CreateClient();

        using var down = await client.GetAsync("/kubernetes/SHA256SUMS");
        using var root = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);
        Assert.DoesNotContain("   at ", await down.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
    }

    [Fact]
    public async Task RegistryHangs_Is504()
    {
        using var silent = new SilentServer();
        await using var proxy = await ProxyServer.StartAsync(silent.Url, new Dictionary<string, string?> { ["Registry:Timeout"] = "00:00:01" });
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/kubernetes/SHA256SUMS");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }

    [Fact]
    public async Task Post_Is405WithAllow()
    {
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        using var response = await client.PostAsync("/kubernetes/SHA256SUMS", new StringContent("x", Encoding.UTF8));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow.Order());
    }
}
