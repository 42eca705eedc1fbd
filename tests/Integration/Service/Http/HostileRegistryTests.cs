using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

/// <summary>
/// A registry that sends what no registry should (issue 20, items 5, 6, 7 and 10), one fake registry per row, in
/// front of the standalone host on Kestrel: each row asserts status, body and headers, and what was never asked for.
/// </summary>
public class HostileRegistryTests
{
    private static readonly byte[] Content = Encoding.ASCII.GetBytes("sysext bytes");

    private static Task<ProxyServer> ProxyAsync(HostileRegistry registry, string delivery = "stream", params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = delivery, ["Signing:Key"] = null, ["Cache:ChecksumsTtl"] = "00:00:30" };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return ProxyServer.StartAsync(registry.Url, settings);
    }

    [Fact]
    public async Task TagWithFinalNewline_SkippedAndLogged_Never500()
    {
        await using var registry = await HostileRegistry.StartAsync();
        registry.Push("hello", "v1.1", Content);
        registry.OnJson("/v2/hello/tags/list", """{"name":"hello","tags":["v1.0\n","v1.1"]}""");
        // What .NET's unanchored "$" let through before: the manifest of "v1.0\n" fetched as "v1.0".
        registry.Push("hello", "v1.0", Content);
        await using var proxy = await ProxyAsync(registry, "stream", ("Logging:LogLevel:Default", "Information"));
        using var client = proxy.CreateClient();

        using var sums = await client.GetAsync("/hello/SHA256SUMS").ExplainedBy(proxy);

        Assert.Equal(HttpStatusCode.OK, sums.StatusCode);
        Assert.Equal($"{HostileRegistry.Sha256(Content)[7..]}  hello-v1.1.raw\n", await sums.Content.ReadAsStringAsync());
        Assert.Equal(0, registry.Count("GET", "/v2/hello/manifests/v1.0"));
        Assert.Contains("v1.0\\n", string.Join('\n', proxy.Log.GetSnapshot().Select(r => r.Message)), StringComparison.Ordinal);
        Assert.DoesNotContain("v1.0\n", string.Join('\n', proxy.Log.GetSnapshot().Select(r => r.Message)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LayoutIndexTagWithFinalNewline_SkippedNever500()
    {
        using var root = new TempDirectory();
        var layout = new OciLayoutWriter(root.Combine("hello"));
        layout.AddOrasArtifact("v1.0\n", "hello-v1.0.raw", Content);
        layout.AddOrasArtifact("v1.1", "hello-v1.1.raw", Content);
        await using var proxy = await ProxyServer.StartAsync(new Uri("http://127.0.0.1:1"), new Dictionary<string, string?> { ["Registry:Url"] = null, ["Registry:Layout"] = root.Path, ["Signing:Key"] = null });
        using var client = proxy.CreateClient();

        using var sums = await client.GetAsync("/hello/SHA256SUMS").ExplainedBy(proxy);

        Assert.Equal(HttpStatusCode.OK, sums.StatusCode);
        Assert.Equal($"{HostileRegistry.Sha256(Content)[7..]}  hello-v1.1.raw\n", await sums.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task CatalogNameWithNewline_NeverOnTheIndexPage()
    {
        await using var registry = await HostileRegistry.StartAsync();
        registry.OnJson("/v2/_catalog?n=100", """{"repositories":["bad\n","good","evil\n<script>"]}""");
        await using var proxy = await ProxyAsync(registry);
        using var client = proxy.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Accept.ParseAdd("text/html");

        using var page = await client.SendAsync(request);
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<a href=\"/good/\">good</a>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("/bad", html, StringComparison.Ordinal);
        Assert.DoesNotContain(">bad", html, StringComparison.Ordinal);
        Assert.DoesNotContain("evil", html, StringComparison.Ordinal);
    }

    /// <summary>A blob redirect to a scheme no client should be sent to: refused with 502 in every mode, never followed or passed on.</summary>
    [Theory]
    [InlineData("stream", "file:///etc/passwd", "file:")]
    [InlineData("stream", "javascript:alert(1)", "javascript:")]
    [InlineData("stream", "ftp://storage.example/blob", "ftp:")]
    [InlineData("auto", "file:///etc/passwd", "file:")]
    [InlineData("auto", "javascript:alert(1)", "javascript:")]
    [InlineData("auto", "ftp://storage.example/blob", "ftp:")]
    public async Task BlobRedirect_NonHttpScheme_502NoStoreShortReason(string delivery, string location, string scheme)
    {
        await using var registry = await HostileRegistry.StartAsync();
        var layer = registry.Push("hello", "v1", Content);
        registry.OnJson("/v2/hello/tags/list", """{"name":"hello","tags":["v1"]}""");
        registry.On($"/v2/hello/blobs/{layer}", context =>
        {
            context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = location;
            return Task.CompletedTask;
        });
        await using var proxy = await ProxyAsync(registry, delivery);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/hello/hello-v1.raw");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"redirect to a {scheme} URL refused", body, StringComparison.Ordinal);
        Assert.DoesNotContain(location, body, StringComparison.Ordinal);
        Assert.Null(response.Headers.Location);
        Assert.Equal(1, body.Count(c => c == '\n'));
    }

    /// <summary>Ten catalogue requests over 40 tags whose config blobs fail: each config is asked for once, not 320 times.</summary>
    [Fact]
    public async Task CatalogueConfigDates_FailingConfigs_ReadOnceEachNotPerRequest()
    {
        await using var registry = await HostileRegistry.StartAsync();
        var tags = Enumerable.Range(0, 40).Select(i => $"v{i}").ToList();
        var configs = new HashSet<string>();
        foreach (var tag in tags)
        {
            // Distinct layers, so distinct manifests; every config blob answers 500.
            configs.Add(registry.Push("dated", tag, Encoding.ASCII.GetBytes($"layer {tag}"), config: Encoding.ASCII.GetBytes($$"""{"architecture":"amd64","os":"linux","tag":"{{tag}}"}""")));
        }

        registry.OnJson("/v2/dated/tags/list", $$"""{"name":"dated","tags":[{{string.Join(',', tags.Select(t => $"\"{t}\""))}}]}""");
        foreach (var config in configs)
        {
            registry.On($"/v2/dated/blobs/{config}", context => HostileRegistry.Send(context, 500, "application/json", """{"errors":[{"code":"UNKNOWN"}]}"""u8.ToArray()));
        }

        await using var proxy = await ProxyAsync(registry);
        using var client = proxy.CreateClient();

        for (var i = 0; i < 10; i++)
        {
            using var json = await client.GetAsync("/dated/catalogue.json").ExplainedBy(proxy);
            Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        }

        // 40 distinct configs, each failing: each read once and remembered (32 on the first request, the other 8 on
        // the second), not 32 on every request.
        var reads = configs.Sum(config => registry.Count("GET", $"/v2/dated/blobs/{config}"));
        Assert.InRange(reads, 1, 40);
    }
}
