using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

/// <summary>
/// What a CDN or systemd-pull in front of us may keep: Cache-Control, ETag and 304s, through the proxy on Kestrel
/// against the real registry, with the registry requests counted.
/// </summary>
[Collection(RegistryCollection.Name)]
public partial class HttpCachingTests(RegistryServer registry)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private readonly OciPusher _pusher = new(registry.Url);

    private static Task<ProxyServer> StartAsync(Uri upstream, RequestCounts counts, TimeSpan ttl, string delivery = "stream", FakeTimeProvider? clock = null, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Cache:ChecksumsTtl"] = ttl.ToString(),
            ["Proxy:BlobDelivery"] = delivery,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return ProxyServer.StartAsync(upstream, settings, builder =>
        {
            counts.Install()(builder);
            if (clock is not null)
            {
                builder.Services.AddSingleton<TimeProvider>(clock);
            }
        });
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client, string path, EntityTagHeaderValue? ifNoneMatch = null, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        if (ifNoneMatch is not null)
        {
            request.Headers.IfNoneMatch.Add(ifNoneMatch);
        }

        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Checksums_Ttl_MaxAgeIsWhatIsLeftOfTheListing()
    {
        await _pusher.PushOrasArtifactAsync("httpcache/countdown", "v1", "countdown.raw", [1]);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(registry.Url, counts, Hour, clock: clock);
        using var client = proxy.CreateClient();

        using var first = await GetAsync(client, "/httpcache/countdown/SHA256SUMS");
        clock.Advance(TimeSpan.FromMinutes(10));
        using var later = await GetAsync(client, "/httpcache/countdown/SHA256SUMS");

        Assert.Equal("public, max-age=3600", first.Headers.CacheControl?.ToString());
        Assert.Equal("public, max-age=3000", later.Headers.CacheControl?.ToString());
        Assert.Equal(first.Headers.ETag, later.Headers.ETag);
        // Both from one listing: its age, not a new one, sets the second max-age.
        Assert.Equal(1, counts["GET tags"]);
    }

    [Fact]
    public async Task Checksums_IfNoneMatch_304WithCacheControlAndETag()
    {
        await _pusher.PushOrasArtifactAsync("httpcache/sums304", "v1", "sums304.raw", [1]);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(registry.Url, counts, Hour);
        using var client = proxy.CreateClient();
        using var first = await GetAsync(client, "/httpcache/sums304/SHA256SUMS");

        using var second = await GetAsync(client, "/httpcache/sums304/SHA256SUMS", first.Headers.ETag);
        using var head = await GetAsync(client, "/httpcache/sums304/SHA256SUMS", first.Headers.ETag, HttpMethod.Head);
        using var other = await GetAsync(client, "/httpcache/sums304/SHA256SUMS", new EntityTagHeaderValue("\"something-else\""));

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Empty(await second.Content.ReadAsByteArrayAsync());
        Assert.Equal(first.Headers.ETag, second.Headers.ETag);
        Assert.StartsWith("public, max-age=", second.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotModified, head.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await other.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Checksums_ZeroTtl_NoCacheAndUnchangedListingIs304()
    {
        await _pusher.PushOrasArtifactAsync("httpcache/nottl", "v1", "nottl.raw", [1]);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(registry.Url, counts, TimeSpan.Zero);
        using var client = proxy.CreateClient();
        using var first = await GetAsync(client, "/httpcache/nottl/SHA256SUMS");

        using var second = await GetAsync(client, "/httpcache/nottl/SHA256SUMS", first.Headers.ETag);

        Assert.Equal("no-cache", first.Headers.CacheControl?.ToString());
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Equal("no-cache", second.Headers.CacheControl?.ToString());
        // Listed again for the revalidation, found unchanged.
        Assert.Equal(2, counts["GET tags"]);
    }

    [Fact]
    public async Task Signatures_IfNoneMatch_304AndListingMaxAge()
    {
        await _pusher.PushOrasArtifactAsync("httpcache/signed", "v1", "signed.raw", [1]);
        await using var key = await GpgKey.CreateAsync("ed25519");
        using var dir = new TempDirectory();
        var keyFile = dir.Combine("signing.asc");
        await File.WriteAllBytesAsync(keyFile, await key.ExportSecretAsync(armor: true));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(registry.Url, counts, Hour, clock: clock, extra: new Dictionary<string, string?>
        {
            ["Signing:KeyFile"] = keyFile,
            ["Signing:Passphrase"] = key.Passphrase,
        });
        using var client = proxy.CreateClient();

        using var sums = await GetAsync(client, "/httpcache/signed/SHA256SUMS");
        clock.Advance(TimeSpan.FromSeconds(100));
        using var gpg = await GetAsync(client, "/httpcache/signed/SHA256SUMS.gpg");
        using var asc = await GetAsync(client, "/httpcache/signed/SHA256SUMS.asc");
        using var gpgAgain = await GetAsync(client, "/httpcache/signed/SHA256SUMS.gpg", gpg.Headers.ETag);
        using var ascAgain = await GetAsync(client, "/httpcache/signed/SHA256SUMS.asc", asc.Headers.ETag);
        using var crossed = await GetAsync(client, "/httpcache/signed/SHA256SUMS.asc", gpg.Headers.ETag);

        Assert.Equal(HttpStatusCode.OK, gpg.StatusCode);
        Assert.Equal("public, max-age=3500", gpg.Headers.CacheControl?.ToString());
        Assert.Equal("public, max-age=3500", asc.Headers.CacheControl?.ToString());
        Assert.NotNull(gpg.Headers.ETag);
        Assert.NotNull(asc.Headers.ETag);
        Assert.NotEqual(gpg.Headers.ETag, asc.Headers.ETag);
        Assert.NotEqual(sums.Headers.ETag, gpg.Headers.ETag);
        Assert.Equal(HttpStatusCode.NotModified, gpgAgain.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, ascAgain.StatusCode);
        Assert.Equal("public, max-age=3500", gpgAgain.Headers.CacheControl?.ToString());
        Assert.Equal(HttpStatusCode.OK, crossed.StatusCode);
    }

    [Theory]
    [InlineData("stream", 200)]
    [InlineData("auto", 200)]
    [InlineData("redirect", 307)]
    public async Task File_Get_ListingTtlMaxAgeAndDigestETag(string delivery, int status)
    {
        var content = Payloads.Random(4096, 41);
        var repository = $"httpcache/{delivery}/file";
        await _pusher.PushOrasArtifactAsync(repository, "v1", "file.raw", content);
        var counts = new RequestCounts();
        await using var proxy = await StartAsync(registry.Url, counts, TimeSpan.FromSeconds(45), delivery);
        using var client = proxy.CreateClient();

        using var response = await GetAsync(client, $"/{repository}/file-v1.raw");
        using var head = await GetAsync(client, $"/{repository}/file-v1.raw", method: HttpMethod.Head);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("public, max-age=45", response.Headers.CacheControl?.ToString());
        Assert.Equal("public, max-age=45", head.Headers.CacheControl?.ToString());
        if (status == 200)
        {
            Assert.Equal($"\"{OciPusher.Sha256(content)}\"", response.Headers.ETag?.ToString());
            Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        }
    }
}
