using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SysextFunctions.Http.Pages;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

public partial class CatalogueTests
{
    [Fact]
    public async Task Root_BrowserWithoutMappings_RegistryCatalogLinked()
    {
        await PushAnnotatedAsync("cat/index/listed", "v1", "listed-v1.raw", [1], []);
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        using var page = await GetAsync(client, "/", "text/html,*/*;q=0.8");
        using var plain = await GetAsync(client, "/", "*/*");

        Assert.Equal(HtmlPage.ContentSecurityPolicy, Assert.Single(page.Headers.GetValues("Content-Security-Policy")));
        Assert.Contains("<a href=\"/cat/index/listed/\">cat/index/listed</a>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(SysextFunctions.Http.SysextHandler.Description + "\n", await plain.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", plain.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Root_RegistryRefusesCatalog_PageSaysSo()
    {
        await using var refusing = await RefusingRegistry.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(refusing.Url);
        using var client = proxy.CreateClient();

        using var page = await GetAsync(client, "/", "text/html");
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("The registry does not list its repositories", html, StringComparison.Ordinal);
        Assert.Contains("UNSUPPORTED", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Root_Layout_ListsItsRepositories()
    {
        using var root = new TempDirectory();
        new OciLayoutWriter(root.CreateDirectory("sysexts", "hello")).AddOrasArtifact("v1", "hello-v1.raw", [1, 2]);
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Registry:Layout"] = root.Path });
        using var client = proxy.CreateClient();

        using var page = await GetAsync(client, "/", "text/html");
        using var json = JsonDocument.Parse(await client.GetStringAsync("/sysexts/hello/"));

        Assert.Contains("<a href=\"/sysexts/hello/\">sysexts/hello</a>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("hello-v1.raw", Assert.Single(json.RootElement.GetProperty("files").EnumerateArray()).GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("/cat/q/hello/?format=json")]
    [InlineData("/cat/q/hello/hello.transfer?x")]
    [InlineData("/?page=2")]
    public async Task QueryString_Refused400(string target)
    {
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        using var response = await GetAsync(client, target, "text/html");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Catalogue_NeitherHtmlNorJson_406()
    {
        const string repository = "cat/accept/hello";
        await PushAnnotatedAsync(repository, "v1", "hello-v1.raw", [1], []);
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        using var response = await GetAsync(client, $"/{repository}/", "image/png");

        Assert.Equal(HttpStatusCode.NotAcceptable, response.StatusCode);
    }

    [Fact]
    public async Task Checksums_WithCatalogueFields_BytesUnchanged()
    {
        const string repository = "cat/sums/hello";
        var content = Payloads.Random(100, 7);
        await PushAnnotatedAsync(repository, "v1-arm64", "hello-v1-arm64.raw", content, new() { ["org.opencontainers.image.created"] = "2026-01-01T00:00:00Z" });
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();

        using var sums = await client.GetAsync($"/{repository}/SHA256SUMS");
        var body = await sums.Content.ReadAsByteArrayAsync();

        Assert.Equal($"{OciPusher.Sha256(content)[7..]}  hello-v1-arm64.raw\n", Encoding.ASCII.GetString(body));
        Assert.Equal($"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body))}\"", sums.Headers.ETag!.Tag);
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client, string path, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        return await client.SendAsync(request);
    }

    private static async Task<string> TransferAsync(ProxyServer proxy, string repository, bool forwarded)
    {
        using var client = proxy.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/{repository}/{repository[(repository.LastIndexOf('/') + 1)..]}.transfer");
        if (forwarded)
        {
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("X-Forwarded-Host", "sysext.example:8443");
        }

        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>An oras-style artifact with the manifest annotations given.</summary>
    private async Task PushAnnotatedAsync(string repository, string tag, string title, byte[] content, Dictionary<string, string> annotations)
    {
        var empty = "{}"u8.ToArray();
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["artifactType"] = "application/vnd.unknown.artifact.v1",
            ["config"] = new JsonObject { ["mediaType"] = MediaTypes.OciEmpty, ["digest"] = await _pusher.PushBlobAsync(repository, empty), ["size"] = empty.Length },
            ["layers"] = new JsonArray(new JsonObject
            {
                ["mediaType"] = MediaTypes.OciLayerTar,
                ["digest"] = await _pusher.PushBlobAsync(repository, content),
                ["size"] = content.Length,
                ["annotations"] = new JsonObject { [Descriptor.TitleAnnotation] = title },
            }),
            ["annotations"] = new JsonObject(annotations.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))),
        };
        await _pusher.PushManifestAsync(repository, tag, MediaTypes.OciManifest, Encoding.UTF8.GetBytes(manifest.ToJsonString()));
    }

    /// <summary>A registry that answers <c>/v2/_catalog</c> the way GHCR and Docker Hub do: not at all.</summary>
    private sealed class RefusingRegistry : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private RefusingRegistry(WebApplication app, Uri url) => (_app, Url) = (app, url);

        public Uri Url { get; }

        public static async Task<RefusingRegistry> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return context.Response.WriteAsJsonAsync(new { errors = new[] { new { code = "UNSUPPORTED", message = "catalog listing disabled" } } });
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            return new RefusingRegistry(app, new Uri(address));
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
