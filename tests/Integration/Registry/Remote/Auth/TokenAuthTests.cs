using System.Net.Http.Headers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Registry.Remote.Auth;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Registry.Remote.Auth;

/// <summary>
/// The distribution token flow against the real registry in <c>auth: token</c> mode, behind the in-test
/// <see cref="TokenIssuer"/>: the registry checks every token's signature, issuer, audience, expiry and scope.
/// </summary>
public sealed class TokenAuthTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private TokenIssuer _issuer = null!;
    private RegistryServer _registry = null!;

    public async ValueTask InitializeAsync()
    {
        _issuer = await TokenIssuer.StartAsync();
        _registry = RegistryServer.WithConfig(_issuer.RegistryConfig);
        await _registry.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _registry.DisposeAsync();
        await _issuer.DisposeAsync();
    }

    private async Task<PushedImage> PushAsync(string repository, string tag, byte[] content)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _issuer.Mint(repository));
        return await new OciPusher(_registry.Url, http).PushOrasArtifactAsync(repository, tag, "tool.raw", content);
    }

    /// <summary>Pushes a one-byte <c>v1</c>, then forgets the push's token requests so a test counts only its own.</summary>
    private async Task PushOneAsync(string repository)
    {
        await PushAsync(repository, "v1", [1]);
        _issuer.Requests.Clear();
    }

    private RegistryClient Client(RegistryCredentials? credentials = null, TokenCache? cache = null)
    {
        var handler = new RegistryAuthHandler(_registry.Url, credentials ?? RegistryCredentials.Anonymous, cache ?? new TokenCache(_time), TokenRealmPolicy.For(_registry.Url), NullLogger<RegistryAuthHandler>.Instance)
        {
            InnerHandler = _issuer.Ca.CreateHandler(allowRedirects: false),
        };
        return new RegistryClient(new HttpClient(handler), _registry.Url, new UpstreamTimeouts(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10)), _time, NullLogger<RegistryClient>.Instance);
    }

    [Fact]
    public async Task Client_AnonymousTokenFlow_OneTokenPerScopeForTagsManifestAndBlob()
    {
        var content = Payloads.Random(1000, 1);
        var pushed = await PushAsync("auth/tool", "v1", content);
        _issuer.Requests.Clear();
        var client = Client();

        var tags = await client.ListTagsAsync("auth/tool");
        var manifest = await client.GetManifestAsync("auth/tool", "v1");
        var digest = await client.ResolveAsync("auth/tool", "v1");
        using var blob = await client.GetBlobAsync("auth/tool", Digest.Parse(pushed.LayerDigest), followRedirects: true);
        using var read = new MemoryStream();
        await blob.Content!.CopyToAsync(read);

        Assert.Equal(["v1"], tags);
        Assert.Equal(pushed.ManifestDigest, manifest.Digest.ToString());
        Assert.Equal(pushed.ManifestDigest, digest?.ToString());
        Assert.Equal(content, read.ToArray());
        var request = Assert.Single(_issuer.Requests);
        Assert.Equal(TokenIssuer.Service, request.Service);
        Assert.Equal(["repository:auth/tool:pull"], request.Scopes);
        Assert.Empty(request.Authorization);
    }

    [Fact]
    public async Task Client_TwoRepositories_OneTokenEach()
    {
        await PushAsync("auth/one", "v1", [1]);
        await PushAsync("auth/two", "v1", [2]);
        _issuer.Requests.Clear();
        var client = Client();

        await client.ListTagsAsync("auth/one");
        await client.ListTagsAsync("auth/two");
        await client.ListTagsAsync("auth/one");
        await client.ListTagsAsync("auth/two");

        Assert.Equal(["repository:auth/one:pull", "repository:auth/two:pull"], _issuer.Requests.SelectMany(r => r.Scopes).Order());
    }

    [Fact]
    public async Task Client_TokenNearExpiry_FetchesNewOne()
    {
        await PushOneAsync("auth/expiry");
        _issuer.ExpiresIn = 120;
        var client = Client();

        await client.ListTagsAsync("auth/expiry");
        _time.Advance(TimeSpan.FromSeconds(100));
        await client.ListTagsAsync("auth/expiry");
        var beforeExpiry = _issuer.Requests.Count;
        // 120 s tokens are refreshed 12 s early.
        _time.Advance(TimeSpan.FromSeconds(9));
        await client.ListTagsAsync("auth/expiry");

        Assert.Equal(1, beforeExpiry);
        Assert.Equal(2, _issuer.Requests.Count);
    }

    [Fact]
    public async Task Client_NoExpiresInAndAccessTokenField_AssumesSixtySeconds()
    {
        await PushOneAsync("auth/default");
        _issuer.ExpiresIn = null;
        _issuer.UseAccessTokenField = true;
        var client = Client();

        await client.ListTagsAsync("auth/default");
        _time.Advance(TimeSpan.FromSeconds(50));
        await client.ListTagsAsync("auth/default");
        var within = _issuer.Requests.Count;
        _time.Advance(TimeSpan.FromSeconds(5));
        await client.ListTagsAsync("auth/default");

        Assert.Equal(1, within);
        Assert.Equal(2, _issuer.Requests.Count);
    }

    [Fact]
    public async Task Client_ConcurrentColdRequests_ShareOneTokenFetch()
    {
        await PushOneAsync("auth/concurrent");
        _issuer.Delay = TimeSpan.FromMilliseconds(300);
        var client = Client();

        var all = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.ListTagsAsync("auth/concurrent")));

        Assert.All(all, tags => Assert.Equal(["v1"], tags));
        Assert.Single(_issuer.Requests);
    }

    [Fact]
    public async Task Client_BasicCredentialsForRealm_SentToTokenServer()
    {
        await PushOneAsync("auth/private");
        _issuer.RequiredCredentials = ("reader", "s3cret");

        var tags = await Client(RegistryCredentials.Basic("reader", "s3cret")).ListTagsAsync("auth/private");
        var wrong = await Assert.ThrowsAsync<RegistryException>(() => Client(RegistryCredentials.Basic("reader", "wrong")).ListTagsAsync("auth/private"));
        var anonymous = await Assert.ThrowsAsync<RegistryException>(() => Client().ListTagsAsync("auth/private"));

        Assert.Equal(["v1"], tags);
        Assert.Equal(RegistryFailure.Denied, wrong.Failure);
        Assert.Equal(RegistryFailure.Denied, anonymous.Failure);
        Assert.DoesNotContain("s3cret", wrong.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", wrong.Message, StringComparison.Ordinal);
        Assert.StartsWith("Basic ", _issuer.Requests.First().Authorization, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_RegistryRefusesTokens_DeniedAfterOneRetry()
    {
        await PushOneAsync("auth/refused");
        _issuer.WrongAudience = true;
        var client = Client();

        var first = await Assert.ThrowsAsync<RegistryException>(() => client.ListTagsAsync("auth/refused"));
        var afterFirst = _issuer.Requests.Count;
        var second = await Assert.ThrowsAsync<RegistryException>(() => client.ListTagsAsync("auth/refused"));

        Assert.Equal(RegistryFailure.Denied, first.Failure);
        Assert.Equal(RegistryFailure.Denied, second.Failure);
        Assert.Equal(1, afterFirst);
        // The refused token is not reused: the second call fetches a fresh one, then gives up.
        Assert.Equal(2, _issuer.Requests.Count);
    }

    [Fact]
    public async Task Client_SharedCache_SurvivesNewHandlers()
    {
        await PushOneAsync("auth/shared");
        var cache = new TokenCache(_time);

        await Client(cache: cache).ListTagsAsync("auth/shared");
        await Client(cache: cache).ListTagsAsync("auth/shared");

        Assert.Single(_issuer.Requests);
    }

    [Fact]
    public async Task Proxy_TokenRegistryWithPassword_ServesListingAndFileWithOneToken()
    {
        var content = Payloads.Random(3000, 9);
        await PushAsync("auth/proxied", "v1", content);
        _issuer.Requests.Clear();
        _issuer.RequiredCredentials = ("reader", "s3cret");
        await using var proxy = await ProxyServer.StartAsync(_registry.Url, new Dictionary<string, string?>
        {
            ["Registry:Username"] = "reader",
            ["Registry:Password"] = "s3cret",
            // The token issuer's CA; the registry itself is plain HTTP.
            ["Registry:CaCertificateFile"] = _issuer.Ca.CertificatePath,
        });
        using var client = proxy.CreateClient();

        var listing = await client.GetStringAsync("/auth/proxied/SHA256SUMS");
        var file = await client.GetByteArrayAsync("/auth/proxied/proxied-v1.raw");

        Assert.EndsWith("  proxied-v1.raw\n", listing, StringComparison.Ordinal);
        Assert.Equal(content, file);
        var request = Assert.Single(_issuer.Requests);
        Assert.Equal(["repository:auth/proxied:pull"], request.Scopes);
    }
}
