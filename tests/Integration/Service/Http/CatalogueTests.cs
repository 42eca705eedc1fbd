using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using SysextFunctions.Http.Pages;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

/// <summary>
/// The catalogue at <c>/&lt;repository&gt;/</c> (page and JSON), the transfer definition and the index at <c>/</c>,
/// from the proxy on Kestrel in front of the real registry.
/// </summary>
[Collection(RegistryCollection.Name)]
public partial class CatalogueTests(RegistryServer registry)
{
    private const string Hostile = "<script>alert(1)</script> & \"quoted\" <img src=x onerror=alert(2)>";

    private readonly OciPusher _pusher = new(registry.Url);

    [Fact]
    public async Task Page_Repository_VersionsFilesSignatureAndTransfer()
    {
        const string repository = "cat/page/hello";
        var v1 = Payloads.Random(64 * 1024, 1);
        var v2 = Payloads.Random(1536 * 1024, 2);
        await PushAnnotatedAsync(repository, "v1", "hello-v1.raw", v1, new() { ["org.opencontainers.image.created"] = "2026-01-01T10:00:00Z" });
        await PushAnnotatedAsync(repository, "v2", "hello-v2.raw", v2, new()
        {
            ["org.opencontainers.image.created"] = "2026-02-03T04:05:06Z",
            ["org.opencontainers.image.description"] = Hostile,
        });
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        using var response = await GetAsync(client, $"/{repository}/", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HtmlPage.ContentSecurityPolicy, Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Contains("Accept", response.Headers.Vary);
        Assert.Contains("<h1>cat/page/hello</h1>", html, StringComparison.Ordinal);
        Assert.Contains("2 files in 2 versions", html, StringComparison.Ordinal);
        // Newest version first.
        Assert.True(html.IndexOf("<h3>v2</h3>", StringComparison.Ordinal) is var at2 and > 0 && at2 < html.IndexOf("<h3>v1</h3>", StringComparison.Ordinal));
        Assert.Contains("<a href=\"hello-v2.raw\">hello-v2.raw</a>", html, StringComparison.Ordinal);
        Assert.Contains("1.5 MiB", html, StringComparison.Ordinal);
        Assert.Contains("64.0 KiB", html, StringComparison.Ordinal);
        var digest = OciPusher.Sha256(v2);
        Assert.Contains($"<code title=\"{digest}\">{digest[..19]}…</code>", html, StringComparison.Ordinal);
        Assert.Contains($"<code class=\"all\">{digest}</code>", html, StringComparison.Ordinal);
        Assert.Contains("<time datetime=\"2026-02-03T04:05:06Z\">2026-02-03 04:05 UTC</time>", html, StringComparison.Ordinal);
        Assert.Contains("not signed", html, StringComparison.Ordinal);
        var transfer = await client.GetStringAsync($"/{repository}/hello.transfer");
        Assert.Contains($"<pre>{HtmlEncoder.Default.Encode(transfer)}</pre>", html, StringComparison.Ordinal);
        Assert.Contains($"Path={proxy.Url}{repository}\nMatchPattern=hello-@v.raw", WebUtility.HtmlDecode(html), StringComparison.Ordinal);
        Assert.Contains($"curl -fsSo /etc/sysupdate.d/50-hello.conf {proxy.Url}{repository}/hello.transfer", WebUtility.HtmlDecode(html), StringComparison.Ordinal);
        // What the publisher wrote is text, never markup.
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &lt;img src=x onerror=alert(2)&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Json_MultiArchIndex_SchemaAndValues()
    {
        const string repository = "cat/json/tool";
        var amd64 = Payloads.Random(1000, 11);
        var arm64 = Payloads.Random(1001, 12);
        var pushedAmd64 = await _pusher.PushOrasArtifactAsync(repository, null, "tool.raw.xz", amd64);
        var pushedArm64 = await _pusher.PushOrasArtifactAsync(repository, null, "tool.raw.xz", arm64);
        await _pusher.PushIndexAsync(repository, "v2", (pushedAmd64, "linux", "amd64", null), (pushedArm64, "linux", "arm64", "v8"));
        await _pusher.PushOrasArtifactAsync(repository, "v1-x86-64", "tool.raw.xz", Payloads.Random(999, 13));
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        using var response = await GetAsync(client, $"/{repository}/", "application/json");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var root = json.RootElement;
        Assert.Equal(["files", "repository", "rolloutPolicy", "rolloutSteps", "versions"], root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        // Without a rollout schedule: every version offered to all.
        Assert.Equal(JsonValueKind.Null, root.GetProperty("rolloutPolicy").ValueKind);
        Assert.All(root.GetProperty("versions").EnumerateArray(), v =>
        {
            Assert.Equal(["halted", "nextStep", "phased", "promoted", "published", "share", "version"], v.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.False(v.GetProperty("phased").GetBoolean());
            Assert.Equal(1, v.GetProperty("share").GetDouble());
        });
        Assert.Equal(["v2", "v1"], root.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()));
        Assert.Equal(repository, root.GetProperty("repository").GetString());
        var files = root.GetProperty("files").EnumerateArray().ToList();
        Assert.All(files, f => Assert.Equal(["architecture", "created", "digest", "name", "size", "tag"], f.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)));
        Assert.Equal(["tool-v1-x86-64.raw.xz", "tool-v2-arm64.raw.xz", "tool-v2-x86-64.raw.xz"], files.Select(f => f.GetProperty("name").GetString()));
        var arm = files[1];
        Assert.Equal("v2", arm.GetProperty("tag").GetString());
        Assert.Equal("arm64", arm.GetProperty("architecture").GetString());
        Assert.Equal(1001, arm.GetProperty("size").GetInt64());
        Assert.Equal(OciPusher.Sha256(arm64), arm.GetProperty("digest").GetString());
        // The platform manifest's annotation, as oras writes it.
        Assert.Equal("2026-11-25T00:00:00Z", arm.GetProperty("created").GetString());
        Assert.Equal("v1-x86-64", files[0].GetProperty("tag").GetString());
        Assert.Equal("x86-64", files[0].GetProperty("architecture").GetString());
    }

    [Fact]
    public async Task Json_NoArchitectureNoDate_NullsPresent()
    {
        const string repository = "cat/nulls/plain";
        await PushAnnotatedAsync(repository, "v1", "plain-v1.raw", [1, 2, 3], []);
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        using var json = JsonDocument.Parse(await client.GetStringAsync($"/{repository}/"));

        var file = Assert.Single(json.RootElement.GetProperty("files").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, file.GetProperty("architecture").ValueKind);
        Assert.Equal(JsonValueKind.Null, file.GetProperty("created").ValueKind);
        Assert.Equal(3, file.GetProperty("size").GetInt64());
    }

    [Fact]
    public async Task Json_DockerImage_CreatedFromImageConfig()
    {
        const string repository = "cat/config/layer";
        var config = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["created"] = "2024-03-04T05:06:07.123456789Z",
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray() },
        });
        var layer = Payloads.TarGz(("file", "x\n"));
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.DockerManifest,
            ["config"] = new JsonObject { ["mediaType"] = MediaTypes.DockerConfig, ["digest"] = await _pusher.PushBlobAsync(repository, config), ["size"] = config.Length },
            ["layers"] = new JsonArray(new JsonObject { ["mediaType"] = MediaTypes.DockerLayerTarGzip, ["digest"] = await _pusher.PushBlobAsync(repository, layer), ["size"] = layer.Length }),
        };
        await _pusher.PushManifestAsync(repository, "v1.0", MediaTypes.DockerManifest, Encoding.UTF8.GetBytes(manifest.ToJsonString()));
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        using var json = JsonDocument.Parse(await client.GetStringAsync($"/{repository}/"));
        var transfer = await client.GetStringAsync($"/{repository}/layer.transfer");

        var file = Assert.Single(json.RootElement.GetProperty("files").EnumerateArray());
        Assert.Equal("layer-v1.0.tar.gz", file.GetProperty("name").GetString());
        Assert.StartsWith("2024-03-04T05:06:07.123456", file.GetProperty("created").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("Z", file.GetProperty("created").GetString(), StringComparison.Ordinal);
        Assert.Contains("\nType=url-tar\n", transfer, StringComparison.Ordinal);
        Assert.Contains("\nMatchPattern=layer-@v.tar.gz\n", transfer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transfer_Host_PathIsTheUrlTheClientUsed()
    {
        const string repository = "cat/transfer/hello";
        await PushAnnotatedAsync(repository, "v1", "hello-v1.raw", [1], []);
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        await using var trusting = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Proxy:TrustForwardedHeaders"] = "true" });

        var plain = await TransferAsync(proxy, repository, forwarded: false);
        var ignored = await TransferAsync(proxy, repository, forwarded: true);
        var honoured = await TransferAsync(trusting, repository, forwarded: true);

        Assert.Contains($"\nPath={proxy.Url}{repository}\n", plain, StringComparison.Ordinal);
        Assert.Equal(plain, ignored);
        Assert.Contains($"\nPath=https://sysext.example:8443/{repository}\n", honoured, StringComparison.Ordinal);
        Assert.Contains("\nVerify=no\n", plain, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signed_PageAndTransfer_SaySignedVerifyYes()
    {
        const string repository = "cat/signed/hello";
        await PushAnnotatedAsync(repository, "v1", "hello-v1.raw", [1], []);
        await using var key = await GpgKey.CreateAsync("ed25519");
        using var dir = new TempDirectory();
        var keyFile = dir.Combine("signing.asc");
        await File.WriteAllBytesAsync(keyFile, await key.ExportSecretAsync(armor: true));
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?>
        {
            ["Signing:KeyFile"] = keyFile,
            ["Signing:Passphrase"] = key.Passphrase,
        });
        using var client = proxy.CreateClient();

        using var page = await GetAsync(client, $"/{repository}/", "text/html");
        var transfer = await client.GetStringAsync($"/{repository}/hello.transfer");

        Assert.Contains("<span class=\"badge yes\">signed</span>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("\nVerify=yes\n", transfer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownRepository_404InEveryFormat()
    {
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        foreach (var (path, accept) in new[] { ("/cat/nothing/here/", "text/html"), ("/cat/nothing/here/", "application/json"), ("/cat/nothing/here/here.transfer", "*/*") })
        {
            using var response = await GetAsync(client, path, accept);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path} {accept}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task Mappings_UnmappedRepository_404WithoutAskingTheRegistry()
    {
        const string repository = "cat/mapped/hello";
        await PushAnnotatedAsync(repository, "v1", "hello-v1.raw", [1], []);
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        await using var proxy = await ProxyServer.StartAsync(relay.Url, new Dictionary<string, string?>
        {
            ["Mappings:0:Path"] = "hello",
            ["Mappings:0:Repository"] = repository,
            ["Mappings:1:Path"] = "tools/*",
            ["Mappings:1:Repository"] = "cat/tools/*",
        });
        using var client = proxy.CreateClient();

        foreach (var accept in new[] { "text/html", "application/json" })
        {
            using var unmapped = await GetAsync(client, $"/{repository}/", accept);
            Assert.Equal(HttpStatusCode.NotFound, unmapped.StatusCode);
        }

        using var transfer = await GetAsync(client, $"/{repository}/hello.transfer", "*/*");
        using var index = await GetAsync(client, "/", "text/html");
        var indexHtml = await index.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, transfer.StatusCode);
        Assert.Empty(relay.Requests);
        Assert.Contains("<a href=\"/hello/\">hello</a>", indexHtml, StringComparison.Ordinal);
        Assert.Contains("<code>tools/*</code>", indexHtml, StringComparison.Ordinal);
        Assert.DoesNotContain(repository, indexHtml, StringComparison.Ordinal);
        Assert.Empty(relay.Requests);

        using var mapped = await GetAsync(client, "/hello/", "application/json");
        using var json = JsonDocument.Parse(await mapped.Content.ReadAsStringAsync());
        Assert.Equal("hello", json.RootElement.GetProperty("repository").GetString());
        Assert.Equal("hello-v1.raw", Assert.Single(json.RootElement.GetProperty("files").EnumerateArray()).GetProperty("name").GetString());
    }
}
