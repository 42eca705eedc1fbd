using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Registry.Remote.Auth;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Unit.Registry.Remote.Auth;

/// <summary>Where credentials go, at the HttpMessageHandler seam.</summary>
public class AuthHandlerTests
{
    internal const string Registry = "https://registry.test";
    private static readonly Digest Blob = Digest.Sha256(new byte[32]);

    /// <summary>A client of <see cref="Registry"/> over the auth handler, on a route table.</summary>
    internal static RegistryClient Client(RouteHandler routes, RegistryCredentials credentials, TokenCache? cache = null, TokenRealmPolicy? realms = null) =>
        new(
            new HttpClient(new RegistryAuthHandler(new Uri(Registry), credentials, cache ?? new TokenCache(TimeProvider.System), realms ?? TokenRealmPolicy.For(new Uri(Registry)), NullLogger<RegistryAuthHandler>.Instance) { InnerHandler = routes }),
            new Uri(Registry),
            new UpstreamTimeouts(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10)),
            TimeProvider.System, NullLogger<RegistryClient>.Instance)
        { Authenticated = !credentials.IsAnonymous };

    private static HttpResponseMessage BasicChallengeOr(HttpRequestMessage request, Func<HttpResponseMessage> authorized)
    {
        if (request.Headers.Authorization?.Scheme == "Basic")
        {
            return authorized();
        }

        var challenge = new HttpResponseMessage(HttpStatusCode.Unauthorized);
        challenge.Headers.WwwAuthenticate.ParseAdd("Basic realm=\"registry\"");
        return challenge;
    }

    private static HttpResponseMessage Redirect(string location)
    {
        var response = new HttpResponseMessage(HttpStatusCode.TemporaryRedirect);
        response.Headers.Location = new Uri(location);
        return response;
    }

    [Fact]
    public async Task GetBlobAsync_RedirectToStorage_StorageGetsNoAuthorization()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/tool/blobs/{Blob}", r => BasicChallengeOr(r, () => Redirect("https://storage.test/blob?sig=abc")))
            .On(HttpMethod.Get, "https://storage.test/blob?sig=abc", _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([1, 2]) });

        using var blob = await Client(routes, RegistryCredentials.Basic("user", "secret")).GetBlobAsync("tool", Blob, followRedirects: true);

        var requests = routes.Requests.ToArray();
        Assert.Equal(3, requests.Length);
        Assert.Null(requests[0].Authorization);
        Assert.StartsWith("Basic ", requests[1].Authorization, StringComparison.Ordinal);
        Assert.Equal("storage.test", requests[2].Uri.Host);
        Assert.Null(requests[2].Authorization);
    }

    [Fact]
    public async Task GetBlobAsync_SameHostOtherPort_GetsNoAuthorization()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/tool/blobs/{Blob}", r => BasicChallengeOr(r, () => Redirect("https://registry.test:8443/blob")))
            .On(HttpMethod.Get, "https://registry.test:8443/blob", _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([1]) });

        using var blob = await Client(routes, RegistryCredentials.Basic("user", "secret")).GetBlobAsync("tool", Blob, followRedirects: true);

        Assert.Null(routes.Requests.Last().Authorization);
    }

    [Fact]
    public async Task GetBlobAsync_AuthenticatedRegistryRedirectsToStorage_PassedOn()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/tool/blobs/{Blob}", r => BasicChallengeOr(r, () => Redirect("https://storage.test/blob?sig=abc")));

        using var blob = await Client(routes, RegistryCredentials.Basic("user", "secret")).GetBlobAsync("tool", Blob, followRedirects: false);

        Assert.Equal(new Uri("https://storage.test/blob?sig=abc"), blob.RedirectTo);
    }

    [Fact]
    public async Task GetBlobAsync_AuthenticatedRegistryRedirectsToItself_FollowedNotPassedOn()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/tool/blobs/{Blob}", r => BasicChallengeOr(r, () => Redirect($"{Registry}/internal/blob")))
            .On(HttpMethod.Get, $"{Registry}/internal/blob", r => BasicChallengeOr(r, () => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([7]) }));

        using var blob = await Client(routes, RegistryCredentials.Basic("user", "secret")).GetBlobAsync("tool", Blob, followRedirects: false);

        Assert.Null(blob.RedirectTo);
        Assert.Equal(7, blob.Content!.ReadByte());
    }

    [Fact]
    public async Task GetBlobAsync_AnonymousTokenRegistryRedirectsToItself_FollowedNotPassedOn()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, "https://registry.test/token?service=registry.test&scope=repository%3Atool%3Apull", _ => RouteHandler.Json("""{"token":"anonymous"}"""))
            .On(HttpMethod.Get, $"{Registry}/v2/tool/blobs/{Blob}", r =>
            {
                if (r.Headers.Authorization?.Parameter == "anonymous")
                {
                    return Redirect($"{Registry}/internal/blob");
                }

                var challenge = new HttpResponseMessage(HttpStatusCode.Unauthorized);
                challenge.Headers.WwwAuthenticate.ParseAdd("Bearer realm=\"https://registry.test/token\",service=\"registry.test\",scope=\"repository:tool:pull\"");
                return challenge;
            })
            .On(HttpMethod.Get, $"{Registry}/internal/blob", _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([8]) });

        using var blob = await Client(routes, RegistryCredentials.Anonymous).GetBlobAsync("tool", Blob, followRedirects: false);

        Assert.Null(blob.RedirectTo);
        Assert.Equal(8, blob.Content!.ReadByte());
    }

    [Fact]
    public async Task GetBlobAsync_AnonymousRegistryRedirectsToItself_PassedOn()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/tool/blobs/{Blob}", _ => Redirect($"{Registry}/internal/blob"));

        using var blob = await Client(routes, RegistryCredentials.Anonymous).GetBlobAsync("tool", Blob, followRedirects: false);

        Assert.Equal(new Uri($"{Registry}/internal/blob"), blob.RedirectTo);
    }

    [Fact]
    public void BlobUri_AuthenticatedRegistry_IsNullSoRedirectModeStreams()
    {
        IOciSource authenticated = Client(new RouteHandler(), RegistryCredentials.Basic("user", "secret"));
        IOciSource anonymous = Client(new RouteHandler(), RegistryCredentials.Anonymous);

        Assert.Null(authenticated.BlobUri("tool", Blob));
        Assert.Equal(new Uri($"{Registry}/v2/tool/blobs/{Blob}"), anonymous.BlobUri("tool", Blob));
    }

    [Fact]
    public async Task ListTagsAsync_BasicChallenge_LaterRequestsCarryCredentialsUpFront()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/tool/tags/list", r => BasicChallengeOr(r, () => RouteHandler.Json("""{"tags":["v1"]}""")));
        var client = Client(routes, RegistryCredentials.Basic("user", "secret"));

        await client.ListTagsAsync("tool");
        await client.ListTagsAsync("tool");

        Assert.Equal(3, routes.Requests.Count);
        Assert.Equal("Basic dXNlcjpzZWNyZXQ=", routes.Requests.Last().Authorization);
    }

    [Fact]
    public async Task ListTagsAsync_PlainHttpRealmOnAnotherHost_CredentialsNotSent()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/tool/tags/list", _ =>
            {
                var challenge = new HttpResponseMessage(HttpStatusCode.Unauthorized);
                challenge.Headers.WwwAuthenticate.ParseAdd("Bearer realm=\"http://tokens.test/token\",service=\"registry.test\"");
                return challenge;
            });

        var e = await Assert.ThrowsAsync<RegistryException>(() => Client(routes, RegistryCredentials.Basic("user", "secret")).ListTagsAsync("tool"));

        Assert.Equal(RegistryFailure.InvalidResponse, e.Failure);
        Assert.DoesNotContain(routes.Requests, r => r.Uri.Host == "tokens.test");
    }

    [Fact]
    public void Credentials_ToString_NeverShowsPassword()
    {
        Assert.DoesNotContain("secret", RegistryCredentials.Basic("user", "secret").ToString(), StringComparison.Ordinal);
    }
}
