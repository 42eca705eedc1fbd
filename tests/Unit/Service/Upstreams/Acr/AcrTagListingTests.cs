using Azure.Core;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Registry.Remote.Auth;
using SysextFunctions.Sysupdate;
using SysextFunctions.Tests.Support;
using SysextFunctions.Trust;
using SysextFunctions.Upstreams;
using SysextFunctions.Upstreams.Acr;

namespace SysextFunctions.Tests.Unit.Service.Upstreams.Acr;

/// <summary>
/// Azure Container Registry's tag listing with digests (<c>/acr/v1/&lt;name&gt;/_tags</c>), against <see cref="FakeAcr"/>
/// with ACR's Entra ID token flow: a listing costs one request per page of 100 tags plus one per manifest not seen.
/// </summary>
public sealed class AcrTagListingTests : IDisposable
{
    private const string Repository = "sysexts/tool";
    private readonly FakeAcr _acr = new();
    private readonly ManifestCache _manifests = new(Options.Create(new CacheOptions()), new FakeTimeProvider());
    private readonly ServiceProvider _services = new ServiceCollection().AddHybridCache().Services.BuildServiceProvider();

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly SignatureVerifier _verifier;

    public AcrTagListingTests() => _verifier = new(Options.Create(new TrustOptions()), _time, NullLogger<SignatureVerifier>.Instance);

    private IOciSource Source(TagListingMode mode = TagListingMode.Auto, Uri? url = null)
    {
        var entra = Substitute.For<TokenCredential>();
        entra.GetTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .Returns(new ValueTask<AccessToken>(new AccessToken("entra", DateTimeOffset.UtcNow.AddHours(1))));
        var registry = url ?? FakeAcr.Url;
        var auth = new RegistryAuthHandler(registry, RegistryCredentials.Tokens(new AcrTokenProvider(entra, TimeProvider.System, NullLogger<AcrTokenProvider>.Instance)), new TokenCache(TimeProvider.System), TokenRealmPolicy.For(registry), NullLogger<RegistryAuthHandler>.Instance)
        {
            InnerHandler = _acr,
        };
        var client = new RegistryClient(new HttpClient(auth), registry, new UpstreamTimeouts(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)), _time, NullLogger<RegistryClient>.Instance) { Authenticated = true };
        return new CachingOciSource(AcrTagListing.Wrap(client, mode, NullLogger<AcrTagListing>.Instance), _manifests, "");
    }

    private SysextListing Catalogue() =>
        new(_services.GetRequiredService<HybridCache>(), Options.Create(new CacheOptions()), ChecksumsSigner.None, _verifier, _time, NullLogger<SysextListing>.Instance);

    private Dictionary<string, string> PushMany(int count) =>
        Enumerable.Range(0, count).ToDictionary(i => $"v1.{i / 100}.{i % 100}", i => _acr.Push(Repository, $"v1.{i / 100}.{i % 100}"));

    public void Dispose()
    {
        _manifests.Dispose();
        _services.Dispose();
        _acr.Dispose();
        _verifier.Dispose();
    }

    [Fact]
    public async Task ListTaggedAsync_250Tags_ThreePagesEveryTagWithItsDigest()
    {
        var pushed = PushMany(250);

        var tags = await Source().ListTaggedAsync(Repository);

        Assert.Equal(pushed.Keys.Order(StringComparer.Ordinal), tags.Select(t => t.Name));
        Assert.All(tags, t => Assert.Equal(pushed[t.Name], t.Digest.ToString()));
        Assert.Equal(3, _acr["GET _tags"]);
        Assert.Equal(0, _acr["GET tags"]);
    }

    [Fact]
    public async Task ListAsync_ColdThenUnchangedThenOneNewTag_OneRequestPerPagePlusOnePerNewDigest()
    {
        PushMany(250);
        var source = Source();
        var upstream = new Upstream(source, Repository, "");
        var catalogue = Catalogue();

        var cold = await catalogue.ListAsync(upstream, "tool");
        Assert.Equal(250, cold.Count);
        Assert.Equal(3, _acr["GET _tags"]);
        Assert.Equal(250, _acr["GET manifest by digest"]);
        // Never a request per tag by name: the listing named every digest.
        Assert.Equal(0, _acr["HEAD manifest"] + _acr["GET manifest"] + _acr["GET tags"]);

        _acr.ResetCounts();
        var unchanged = await catalogue.ListAsync(upstream, "tool");
        Assert.Equal(cold.Select(f => (f.Name, f.Digest)), unchanged.Select(f => (f.Name, f.Digest)));
        Assert.Equal(3, _acr.RegistryRequests);

        _acr.ResetCounts();
        _acr.Push(Repository, "v2.0.0");
        var grown = await catalogue.ListAsync(upstream, "tool");
        Assert.Equal(251, grown.Count);
        Assert.Contains(grown, f => f.Tag == "v2.0.0");
        Assert.Equal(3, _acr["GET _tags"]);
        Assert.Equal(1, _acr["GET manifest by digest"]);
        Assert.Equal(4, _acr.RegistryRequests);
    }

    [Fact]
    public async Task ListAsync_NoTagsApi_FallsBackToDistributionOnceAndRemembers()
    {
        PushMany(3);
        _acr.TagsApi = false;
        var upstream = new Upstream(Source(), Repository, "");
        var catalogue = Catalogue();

        var first = await catalogue.ListAsync(upstream, "tool");
        var second = await catalogue.ListAsync(upstream, "tool");

        Assert.Equal(3, first.Count);
        Assert.Equal(first.Select(f => f.Digest), second.Select(f => f.Digest));
        Assert.Equal(1, _acr["GET _tags"]);
        Assert.Equal(2, _acr["GET tags"]);
        // The second listing settles known tags with a HEAD each, as on any distribution registry.
        Assert.Equal(3, _acr["HEAD manifest"]);
    }

    [Fact]
    public async Task ListTaggedAsync_NoTagsApi_RememberedForThatRepositoryUntilTheRecheck()
    {
        _acr.Push("sysexts/one", "v1");
        _acr.Push("sysexts/two", "v1");
        _acr.TagsApi = false;
        var source = Source();

        await source.ListTaggedAsync("sysexts/one");
        await source.ListTaggedAsync("sysexts/one");
        var remembered = _acr["GET _tags"];
        await source.ListTaggedAsync("sysexts/two");
        var otherRepository = _acr["GET _tags"] - remembered;
        _time.Advance(RepositoryCapabilities.DefaultRecheck);
        await source.ListTaggedAsync("sysexts/one");

        Assert.Equal(1, remembered);
        Assert.Equal(1, otherRepository);
        Assert.Equal(3, _acr["GET _tags"]);
    }

    [Fact]
    public async Task ListTaggedAsync_TagsRefusedForOneRepository_OthersKeepTheTagsApiAndItIsAskedAgain()
    {
        var secret = _acr.Push("sysexts/scoped", "v1");
        var open = _acr.Push("sysexts/open", "v1");
        _acr.RefusedTags["sysexts/scoped"] = true;
        var source = Source();

        var refused = await source.ListTaggedAsync("sysexts/scoped");
        var other = await source.ListTaggedAsync("sysexts/open");
        _acr.RefusedTags.Clear();
        var again = await source.ListTaggedAsync("sysexts/scoped");

        // The refusal fell back to the distribution API for that listing only ...
        Assert.Null(Assert.Single(refused).Digest);
        Assert.Equal(1, _acr["GET tags"]);
        // ... and switched nothing off: neither another repository nor the same one next time.
        Assert.Equal(open, Assert.Single(other).Digest.ToString());
        Assert.Equal(secret, Assert.Single(again).Digest.ToString());
        Assert.Equal(3, _acr["GET _tags"]);
    }

    [Fact]
    public async Task ListTaggedAsync_OneTruncatedAnswer_FallsBackOnceThenTagsApiAgain()
    {
        var pushed = PushMany(3);
        _acr.TruncatedTags = 1;
        var source = Source();

        var first = await source.ListTaggedAsync(Repository);
        var second = await source.ListTaggedAsync(Repository);

        Assert.Equal(3, first.Count);
        Assert.All(first, t => Assert.Null(t.Digest));
        Assert.All(second, t => Assert.Equal(pushed[t.Name], t.Digest.ToString()));
        Assert.Equal(2, _acr["GET _tags"]);
        Assert.Equal(1, _acr["GET tags"]);
    }

    [Fact]
    public async Task ListTaggedAsync_UnknownRepository_NotFoundAndTagsApiStillUsed()
    {
        PushMany(1);
        var source = Source();

        var e = await Assert.ThrowsAsync<RegistryException>(() => source.ListTaggedAsync("sysexts/missing"));
        var tags = await source.ListTaggedAsync(Repository);

        Assert.Equal(RegistryFailure.NotFound, e.Failure);
        Assert.Single(tags);
        Assert.NotNull(tags[0].Digest);
        Assert.Equal(2, _acr["GET _tags"]);
    }

    [Fact]
    public async Task ListTaggedAsync_DistributionMode_NeverAsksForTagsApi()
    {
        PushMany(2);

        var tags = await Source(TagListingMode.Distribution).ListTaggedAsync(Repository);

        Assert.Equal(2, tags.Count);
        Assert.All(tags, t => Assert.Null(t.Digest));
        Assert.Equal(0, _acr["GET _tags"]);
    }

    [Theory]
    [InlineData("https://myacr.azurecr.io", TagListingMode.Auto, true)]
    [InlineData("https://MyAcr.AzureCR.io:443", TagListingMode.Auto, true)]
    [InlineData("https://myacr.azurecr.cn", TagListingMode.Auto, true)]
    [InlineData("https://registry.example", TagListingMode.Auto, false)]
    [InlineData("https://azurecr.io.example", TagListingMode.Auto, false)]
    [InlineData("https://registry.example", TagListingMode.Acr, true)]
    [InlineData("https://myacr.azurecr.io", TagListingMode.Distribution, false)]
    public void Wrap_ModeAndHost_AcrListingOnlyWhereMeant(string url, TagListingMode mode, bool acr)
    {
        var client = new RegistryClient(new HttpClient(), new Uri(url), new UpstreamTimeouts(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)), TimeProvider.System, NullLogger<RegistryClient>.Instance);

        var source = AcrTagListing.Wrap(client, mode, NullLogger<AcrTagListing>.Instance);

        Assert.Equal(acr, source is AcrTagListing);
    }
}
