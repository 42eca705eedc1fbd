using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SysextFunctions.Hosting;
using SysextFunctions.Http;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

public partial class HttpCachingTests
{
    [Theory]
    [InlineData("stream", "GET")]
    [InlineData("stream", "HEAD")]
    [InlineData("auto", "GET")]
    [InlineData("redirect", "GET")]
    [InlineData("redirect", "HEAD")]
    public async Task File_IfNoneMatchDigest_304WithoutTouchingTheBlob(string delivery, string method)
    {
        var content = Payloads.Random(64 * 1024, 42);
        var repository = $"httpcache/notmodified/{delivery}/{method.ToLowerInvariant()}/file";
        await _pusher.PushOrasArtifactAsync(repository, "v1", "file.raw", content);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(registry.Url, counts, TimeSpan.FromSeconds(45), delivery);
        using var client = proxy.CreateClient();
        var digest = new EntityTagHeaderValue($"\"{OciPusher.Sha256(content)}\"");

        using var notModified = await GetAsync(client, $"/{repository}/file-v1.raw", digest, new HttpMethod(method));
        var blobsBefore = counts["GET blob"] + counts["HEAD blob"];
        using var anyOf = new HttpRequestMessage(HttpMethod.Get, $"/{repository}/file-v1.raw");
        anyOf.Headers.TryAddWithoutValidation("If-None-Match", $"\"sha256:{new string('0', 64)}\", {digest}");
        using var listed = await client.SendAsync(anyOf);
        using var stale = await GetAsync(client, $"/{repository}/file-v1.raw", new EntityTagHeaderValue($"\"sha256:{new string('0', 64)}\""));

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(digest, notModified.Headers.ETag);
        Assert.Equal("public, max-age=45", notModified.Headers.CacheControl?.ToString());
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotModified, listed.StatusCode);
        Assert.Equal(0, blobsBefore);
        // A tag the client's copy does not match: delivered as without the header (which proves the counter sees blobs).
        Assert.Equal(delivery == "redirect" ? HttpStatusCode.TemporaryRedirect : HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal(delivery == "redirect" ? 0 : 1, counts["GET blob"]);
    }

    [Fact]
    public async Task File_RepushedTag_OldDigestNoLonger304()
    {
        var old = Payloads.Random(1000, 43);
        var @new = Payloads.Random(1000, 44);
        await _pusher.PushOrasArtifactAsync("httpcache/repushed/file", "v1", "file.raw", old);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(registry.Url, counts, TimeSpan.FromSeconds(45));
        using var client = proxy.CreateClient();
        var oldTag = new EntityTagHeaderValue($"\"{OciPusher.Sha256(old)}\"");
        using var before = await GetAsync(client, "/httpcache/repushed/file/file-v1.raw", oldTag);
        await _pusher.PushOrasArtifactAsync("httpcache/repushed/file", "v1", "file.raw", @new);

        using var after = await GetAsync(client, "/httpcache/repushed/file/file-v1.raw", oldTag);

        Assert.Equal(HttpStatusCode.NotModified, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(@new, await after.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Errors_AnyStatus_NoStore()
    {
        await _pusher.PushOrasArtifactAsync("httpcache/errors", "v1", "errors.raw", [1]);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(registry.Url, counts, Hour);
        await using var dead = await StartAsync(new Uri($"http://127.0.0.1:{FreePort.Next()}"), new RequestCounts(), Hour);
        using var client = proxy.CreateClient();
        using var deadClient = dead.CreateClient();

        using var missingFile = await GetAsync(client, "/httpcache/errors/errors-v9.raw");
        using var badPath = await GetAsync(client, "/Upper/SHA256SUMS");
        using var post = await GetAsync(client, "/httpcache/errors/SHA256SUMS", method: HttpMethod.Post);
        using var unsigned = await GetAsync(client, "/httpcache/errors/SHA256SUMS.gpg");
        using var upstreamDown = await GetAsync(deadClient, "/httpcache/errors/SHA256SUMS");

        foreach (var (response, status) in new[] { (missingFile, 404), (badPath, 400), (post, 405), (unsigned, 404), (upstreamDown, 502) })
        {
            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        }
    }

    /// <summary>
    /// The Functions adapter returns the handler's <see cref="IResult"/>, which the worker's ASP.NET Core integration
    /// executes on the request's context, as done here: the same headers as on Kestrel.
    /// </summary>
    [Fact]
    public async Task SysextFunction_Run_SameCachingAsKestrel()
    {
        var content = Payloads.Random(2000, 45);
        await _pusher.PushOrasArtifactAsync("httpcache/functions/file", "v1", "file.raw", content);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Registry:Url"] = registry.Url.ToString(),
            ["Cache:ChecksumsTtl"] = "00:00:45",
            ["Proxy:BlobDelivery"] = "stream",
        }).Build();
        await using var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration)
            .AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.UtcNow)).AddSysextProxy(configuration).BuildServiceProvider();
        var function = new SysextFunction(services.GetRequiredService<SysextHandler>());
        var digest = $"\"{OciPusher.Sha256(content)}\"";

        var sums = await RunAsync(function, services, "/httpcache/functions/file/SHA256SUMS");
        var sums304 = await RunAsync(function, services, "/httpcache/functions/file/SHA256SUMS", sums.Headers.ETag);
        var file = await RunAsync(function, services, "/httpcache/functions/file/file-v1.raw");
        var file304 = await RunAsync(function, services, "/httpcache/functions/file/file-v1.raw", digest);
        var missing = await RunAsync(function, services, "/httpcache/functions/file/file-v2.raw");

        Assert.Equal(200, sums.StatusCode);
        Assert.Equal("public, max-age=45", sums.Headers.CacheControl.ToString());
        Assert.Equal(304, sums304.StatusCode);
        Assert.Equal("public, max-age=45", sums304.Headers.CacheControl.ToString());
        Assert.Equal(200, file.StatusCode);
        Assert.Equal(digest, file.Headers.ETag.ToString());
        Assert.Equal("public, max-age=45", file.Headers.CacheControl.ToString());
        Assert.Equal(content, ((MemoryStream)file.Body).ToArray());
        Assert.Equal(304, file304.StatusCode);
        Assert.Equal(404, missing.StatusCode);
        Assert.Equal("no-store", missing.Headers.CacheControl.ToString());
    }

    private static async Task<HttpResponse> RunAsync(SysextFunction function, IServiceProvider services, string path, string? ifNoneMatch = null)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = path;
        if (ifNoneMatch is not null)
        {
            context.Request.Headers.IfNoneMatch = ifNoneMatch;
        }

        context.Response.Body = new MemoryStream();
        var result = await function.Run(context.Request);
        await result.ExecuteAsync(context);
        return context.Response;
    }
}
