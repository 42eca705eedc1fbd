using System.Net;
using System.Security.Cryptography;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Tests.Integration.Registry.Remote.Auth;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

/// <summary>Several upstreams and mappings, configured as an operator would, through the proxy on Kestrel.</summary>
[Collection(RegistryCollection.Name)]
public sealed class UpstreamProxyTests(RegistryServer registry) : IAsyncLifetime
{
    private readonly OciPusher _pusher = new(registry.Url);
    private readonly TempDirectory _directory = new("sysext-upstreams-");
    private RegistryServer _private = null!;

    public async ValueTask InitializeAsync() => _private = await BasicAuthTests.StartAsync(_directory);

    public async ValueTask DisposeAsync()
    {
        await _private.DisposeAsync();
        _directory.Dispose();
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task Mappings_UnmappedPath_Is404WithoutAskingAnyRegistry()
    {
        await _pusher.PushOrasArtifactAsync("cfg/kubernetes", "v1", "kubernetes.raw", [1, 2, 3]);
        await _pusher.PushOrasArtifactAsync("cfg/unpublished", "v1", "unpublished.raw", [4]);
        // The default registry hangs: any request to it would be a 504, not a 404.
        using var silent = new SilentServer();
        await using var proxy = await ProxyServer.StartAsync(silent.Url, new Dictionary<string, string?>
        {
            ["Registry:Timeout"] = "00:00:02",
            ["Registries:local:Url"] = registry.Url.ToString(),
            ["Mappings:0:Path"] = "kubernetes",
            ["Mappings:0:Repository"] = "cfg/kubernetes",
            ["Mappings:0:Registry"] = "local",
        });
        using var client = proxy.CreateClient();

        using var unpublished = await client.GetAsync("/cfg/unpublished/SHA256SUMS");
        using var unpublishedFile = await client.GetAsync("/cfg/unpublished/unpublished-v1.raw");
        using var other = await client.GetAsync("/anything/SHA256SUMS");
        var mapped = await client.GetStringAsync("/kubernetes/SHA256SUMS");

        Assert.Equal(HttpStatusCode.NotFound, unpublished.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unpublishedFile.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal($"{Hex([1, 2, 3])}  kubernetes-v1.raw\n", mapped);
    }

    [Fact]
    public async Task Mappings_TwoUpstreams_EachPathFromItsRegistry()
    {
        var publicBytes = Payloads.Random(1000, 1);
        var privateBytes = Payloads.Random(1001, 2);
        await _pusher.PushOrasArtifactAsync("cfg/public/tool", "v1", "tool.raw", publicBytes);
        await BasicAuthTests.Pusher(_private.Url).PushOrasArtifactAsync("secret/tools/jq", "v1", "jq.raw", privateBytes);
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?>
        {
            ["Registries:private:Url"] = _private.Url.ToString(),
            ["Registries:private:Username"] = BasicAuthTests.Username,
            ["Registries:private:Password"] = BasicAuthTests.Password,
            ["Mappings:0:Path"] = "tools/*",
            ["Mappings:0:Repository"] = "secret/tools/*",
            ["Mappings:0:Registry"] = "private",
            ["Mappings:1:Path"] = "public/tool",
            ["Mappings:1:Repository"] = "cfg/public/tool",
        });
        using var client = proxy.CreateClient();

        Assert.Equal($"{Hex(privateBytes)}  jq-v1.raw\n", await client.GetStringAsync("/tools/jq/SHA256SUMS"));
        Assert.Equal(privateBytes, await client.GetByteArrayAsync("/tools/jq/jq-v1.raw"));
        Assert.Equal($"{Hex(publicBytes)}  tool-v1.raw\n", await client.GetStringAsync("/public/tool/SHA256SUMS"));
        Assert.Equal(publicBytes, await client.GetByteArrayAsync("/public/tool/tool-v1.raw"));
    }

    [Fact]
    public async Task RedirectMode_RegistryWithPassword_StreamsInsteadOfHandingOutItsUrl()
    {
        var content = Payloads.Random(5000, 3);
        await BasicAuthTests.Pusher(_private.Url).PushOrasArtifactAsync("private/tool", "v1", "tool.raw", content);
        await using var proxy = await ProxyServer.StartAsync(_private.Url, new Dictionary<string, string?>
        {
            ["Registry:Username"] = BasicAuthTests.Username,
            ["Registry:Password"] = BasicAuthTests.Password,
            ["Proxy:BlobDelivery"] = "redirect",
        });
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/private/tool/tool-v1.raw");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Checksums_WrongPassword_Is502WithoutThePassword()
    {
        await BasicAuthTests.Pusher(_private.Url).PushOrasArtifactAsync("private/denied", "v1", "denied.raw", [1]);
        await using var proxy = await ProxyServer.StartAsync(_private.Url, new Dictionary<string, string?>
        {
            ["Registry:Username"] = BasicAuthTests.Username,
            ["Registry:Password"] = "not-the-password-42",
        });
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/private/denied/SHA256SUMS");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.DoesNotContain("not-the-password-42", body, StringComparison.Ordinal);
        Assert.DoesNotContain(BasicAuthTests.Username + ":", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checksums_PrivateIndex_SysupdateNamesServed()
    {
        var amd64 = Payloads.Random(700, 4);
        var pusher = BasicAuthTests.Pusher(_private.Url);
        var child = await pusher.PushOrasArtifactAsync("private/multi", null, "multi.raw", amd64);
        await pusher.PushIndexAsync("private/multi", "v1", MediaTypes.OciIndex, (child, "linux", "amd64", null));
        await using var proxy = await ProxyServer.StartAsync(_private.Url, new Dictionary<string, string?>
        {
            ["Registry:Username"] = BasicAuthTests.Username,
            ["Registry:Password"] = BasicAuthTests.Password,
        });
        using var client = proxy.CreateClient();

        Assert.Equal($"{Hex(amd64)}  multi-v1-x86-64.raw\n", await client.GetStringAsync("/private/multi/SHA256SUMS"));
        Assert.Equal(amd64, await client.GetByteArrayAsync("/private/multi/multi-v1-x86-64.raw"));
    }

    [Fact]
    public async Task Mappings_LayoutUpstreamBesideRegistry_EachServed()
    {
        var onStick = Payloads.Random(600, 5);
        var inRegistry = Payloads.Random(601, 6);
        new OciLayoutWriter(_directory.Combine("stick", "sysexts", "tool")).AddOrasArtifact("v1", "tool.raw", onStick);
        await _pusher.PushOrasArtifactAsync("cfg/online/tool", "v2", "tool.raw", inRegistry);
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?>
        {
            ["Registries:usb:Layout"] = _directory.Combine("stick"),
            ["Mappings:0:Path"] = "offline/*",
            ["Mappings:0:Repository"] = "sysexts/*",
            ["Mappings:0:Registry"] = "usb",
            ["Mappings:1:Path"] = "online/*",
            ["Mappings:1:Repository"] = "cfg/online/*",
        });
        using var client = proxy.CreateClient();

        Assert.Equal($"{Hex(onStick)}  tool-v1.raw\n", await client.GetStringAsync("/offline/tool/SHA256SUMS"));
        Assert.Equal(onStick, await client.GetByteArrayAsync("/offline/tool/tool-v1.raw"));
        Assert.Equal($"{Hex(inRegistry)}  tool-v2.raw\n", await client.GetStringAsync("/online/tool/SHA256SUMS"));
        using var missing = await client.GetAsync("/offline/other/SHA256SUMS");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
