using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Registry.Referrers;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Unit.Registry;

/// <summary>
/// The OCI 1.1 referrers API and its tag-schema fallback. Debian's registry 2.8 has no referrers API, so a registry
/// that has one is a route table at the HttpMessageHandler seam.
/// </summary>
public class ReferrersTests
{
    private const string Registry = "https://registry.test";
    private static readonly Digest Subject = Digest.Parse("sha256:" + new string('a', 64));
    private static readonly string SignatureDigest = "sha256:" + new string('b', 64);

    private static RegistryClient Client(RouteHandler routes, TimeProvider? time = null) =>
        new(new HttpClient(routes), new Uri(Registry), new UpstreamTimeouts(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10)), time ?? TimeProvider.System, NullLogger<RegistryClient>.Instance);

    private static string Index(string digest) =>
        $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{digest}}","size":10,"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}]}""";

    [Fact]
    public async Task GetReferrersAsync_Api_ListsAndFollowsPages()
    {
        var second = "sha256:" + new string('c', 64);
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/referrers/{Subject}", _ =>
            {
                var response = RouteHandler.Json(Index(SignatureDigest));
                response.Headers.TryAddWithoutValidation("Link", $"</v2/sysexts/tool/referrers/{Subject}?n=1&last=b>; rel=\"next\"");
                return response;
            })
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/referrers/{Subject}?n=1&last=b", _ => RouteHandler.Json(Index(second)));

        var referrers = await ReferrersLookup.ListAsync(Client(routes), "sysexts/tool", Subject, knownTags: null);

        Assert.Equal([SignatureDigest, second], referrers.Select(r => r.Digest));
        Assert.Equal("application/vnd.dev.sigstore.bundle.v0.3+json", referrers[0].ArtifactType);
    }

    [Fact]
    public async Task ListAsync_NoApi_ReadsTheSchemaTagAndRemembers()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/referrers/{Subject}", _ => new HttpResponseMessage(HttpStatusCode.NotFound))
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/manifests/sha256-{Subject.Encoded}", _ =>
            {
                var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(Index(SignatureDigest)) };
                response.Content.Headers.ContentType = new("application/vnd.oci.image.index.v1+json");
                return response;
            });
        var client = Client(routes);

        var first = await ReferrersLookup.ListAsync(client, "sysexts/tool", Subject, knownTags: null);
        var second = await ReferrersLookup.ListAsync(client, "sysexts/tool", Subject, knownTags: null);

        Assert.Equal(SignatureDigest, Assert.Single(first).Digest);
        Assert.Equal(SignatureDigest, Assert.Single(second).Digest);
        Assert.Equal(1, routes.Count("/v2/sysexts/tool/referrers/"));
    }

    [Fact]
    public async Task GetReferrersAsync_NoApiForOneRepository_OthersStillAskedAndItselfAgainAfterTheRecheck()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/old/referrers/{Subject}", _ => new HttpResponseMessage(HttpStatusCode.NotFound))
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/new/referrers/{Subject}", _ => RouteHandler.Json(Index(SignatureDigest)));
        var client = Client(routes, time);

        var old = await client.GetReferrersAsync("sysexts/old", Subject);
        var oldAgain = await client.GetReferrersAsync("sysexts/old", Subject);
        var other = await client.GetReferrersAsync("sysexts/new", Subject);
        var withinRecheck = routes.Count("/v2/sysexts/old/referrers/");
        time.Advance(RepositoryCapabilities.DefaultRecheck);
        await client.GetReferrersAsync("sysexts/old", Subject);

        Assert.Null(old);
        Assert.Null(oldAgain);
        // One repository's 404 says nothing about another's.
        Assert.Equal(SignatureDigest, Assert.Single(other!).Digest);
        Assert.Equal(1, withinRecheck);
        Assert.Equal(2, routes.Count("/v2/sysexts/old/referrers/"));
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    public async Task GetReferrersAsync_Refused_FailsThisLookupOnlyAndIsAskedAgain(HttpStatusCode refusal)
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/referrers/{Subject}", _ => new HttpResponseMessage(refusal));
        var client = Client(routes);

        var first = await Assert.ThrowsAsync<RegistryException>(() => client.GetReferrersAsync("sysexts/tool", Subject));
        await Assert.ThrowsAsync<RegistryException>(() => client.GetReferrersAsync("sysexts/tool", Subject));

        Assert.Equal(RegistryFailure.Denied, first.Failure);
        Assert.Equal(2, routes.Count("/v2/sysexts/tool/referrers/"));
        Assert.Equal(0, client.Capabilities.Count);
    }

    [Fact]
    public async Task GetReferrersAsync_ManyRepositoriesWithoutTheApi_RememberedWithinTheBound()
    {
        var routes = new RouteHandler();
        for (var i = 0; i < 12_000; i++)
        {
            routes.On(HttpMethod.Get, $"{Registry}/v2/r{i}/referrers/{Subject}", _ => new HttpResponseMessage(HttpStatusCode.NotFound));
        }

        var client = Client(routes);
        for (var i = 0; i < 12_000; i++)
        {
            await client.GetReferrersAsync($"r{i}", Subject);
        }

        Assert.InRange(client.Capabilities.Count, 1, RepositoryCapabilities.DefaultMaxRepositories);
    }

    [Fact]
    public async Task ListAsync_NoApiAndTagNotListed_AsksForNoTag()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/referrers/{Subject}", _ => new HttpResponseMessage(HttpStatusCode.NotFound));

        var referrers = await ReferrersLookup.ListAsync(Client(routes), "sysexts/tool", Subject, knownTags: new HashSet<string> { "v1" });

        Assert.Empty(referrers);
        Assert.Equal(0, routes.Count("/v2/sysexts/tool/manifests/"));
    }

    [Fact]
    public async Task ListAsync_SourceWithoutApi_FallsBackToTheTag()
    {
        var source = Substitute.For<IOciSource>();
        source.GetReferrersAsync("tool", Subject, Arg.Any<CancellationToken>()).Returns((IReadOnlyList<Descriptor>?)null);
        source.GetManifestAsync("tool", $"sha256-{Subject.Encoded}", Arg.Any<CancellationToken>())
            .Returns(Task.FromException<ManifestResponse>(new RegistryException(RegistryFailure.NotFound, "no such tag")));

        Assert.Empty(await ReferrersLookup.ListAsync(source, "tool", Subject, knownTags: null));
        await source.Received(1).GetManifestAsync("tool", $"sha256-{Subject.Encoded}", Arg.Any<CancellationToken>());
    }

    [Theory]
    [InlineData("sha256-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true)]
    [InlineData("sha256-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sig", true)]
    [InlineData("sha256-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.att", true)]
    [InlineData("sha256-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sbom", true)]
    [InlineData("sha256-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.raw", false)]
    [InlineData("sha256-abc", false)]
    [InlineData("v1.2", false)]
    public void IsReferrerTag_Table(string tag, bool expected)
    {
        Assert.Equal(expected, ReferrerTags.IsReferrerTag(tag));
    }
}
