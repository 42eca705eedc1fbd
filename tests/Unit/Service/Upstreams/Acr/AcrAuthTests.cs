using System.Net;
using System.Text;
using System.Web;
using Azure.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Registry.Remote.Auth;
using SysextFunctions.Tests.Support;
using SysextFunctions.Upstreams.Acr;

namespace SysextFunctions.Tests.Unit.Service.Upstreams.Acr;

/// <summary>
/// Azure Container Registry with Entra ID (https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md), against
/// an in-test fake of its /oauth2/exchange and /oauth2/token endpoints at the HttpMessageHandler seam.
/// </summary>
public class AcrAuthTests
{
    private const string Registry = "https://myacr.test";
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly TokenCredential _entra = Substitute.For<TokenCredential>();
    private readonly RouteHandler _routes = new();
    private int _exchanges;
    private int _tokens;

    public AcrAuthTests()
    {
        _entra.GetTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .Returns(_ => new ValueTask<AccessToken>(new AccessToken("entra-token", _time.GetUtcNow().AddHours(1))));
        _routes.On(HttpMethod.Post, $"{Registry}/oauth2/exchange", request =>
        {
            var form = Form(request);
            Assert.Equal("access_token", form["grant_type"]);
            Assert.Equal("myacr.test", form["service"]);
            Assert.Equal("entra-token", form["access_token"]);
            Assert.Equal("application/x-www-form-urlencoded", request.Content!.Headers.ContentType!.MediaType);
            var n = Interlocked.Increment(ref _exchanges);
            // Refresh tokens are JWTs whose exp says when they end; ours lives 3 hours.
            return RouteHandler.Json($$"""{"refresh_token":"{{Jwt(_time.GetUtcNow().AddHours(3), $"refresh-{n}")}}"}""");
        });
        _routes.On(HttpMethod.Post, $"{Registry}/oauth2/token", request =>
        {
            var form = Form(request);
            Assert.Equal("refresh_token", form["grant_type"]);
            Assert.Equal("myacr.test", form["service"]);
            Assert.StartsWith("repository:", form["scope"], StringComparison.Ordinal);
            Assert.Contains($"\"sub\":\"refresh-{_exchanges}\"", Payload(form["refresh_token"]!), StringComparison.Ordinal);
            var n = Interlocked.Increment(ref _tokens);
            return RouteHandler.Json($$"""{"access_token":"{{Jwt(_time.GetUtcNow().AddMinutes(75), $"access-{n}|{form["scope"]}")}}"}""");
        });
        foreach (var repository in new[] { "sysexts/one", "sysexts/two" })
        {
            _routes.On(HttpMethod.Get, $"{Registry}/v2/{repository}/tags/list?n=100", request =>
            {
                var token = request.Headers.Authorization?.Parameter;
                if (token is not null && Payload(token).Contains($"|repository:{repository}:pull", StringComparison.Ordinal))
                {
                    return RouteHandler.Json("""{"tags":["v1"]}""");
                }

                var challenge = new HttpResponseMessage(HttpStatusCode.Unauthorized);
                challenge.Headers.WwwAuthenticate.ParseAdd($"Bearer realm=\"{Registry}/oauth2/token\",service=\"myacr.test\",scope=\"repository:{repository}:pull\"");
                return challenge;
            });
        }
    }

    private RegistryClient Client() =>
        new(
            new HttpClient(new RegistryAuthHandler(new Uri(Registry), RegistryCredentials.Tokens(new AcrTokenProvider(_entra, _time, NullLogger<AcrTokenProvider>.Instance)), new TokenCache(_time), TokenRealmPolicy.For(new Uri(Registry)), NullLogger<RegistryAuthHandler>.Instance) { InnerHandler = _routes }),
            new Uri(Registry),
            new UpstreamTimeouts(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10)),
            _time, NullLogger<RegistryClient>.Instance);

    private static Dictionary<string, string?> Form(HttpRequestMessage request)
    {
        var query = HttpUtility.ParseQueryString(request.Content!.ReadAsStringAsync().GetAwaiter().GetResult());
        return query.AllKeys.ToDictionary(k => k!, k => query[k]);
    }

    private static string Jwt(DateTimeOffset expires, string subject) =>
        $"{B64("""{"alg":"none"}""")}.{B64($$"""{"exp":{{expires.ToUnixTimeSeconds()}},"sub":"{{subject}}"}""")}.c2ln";

    private static string B64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Payload(string jwt)
    {
        var part = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        return Encoding.UTF8.GetString(Convert.FromBase64String(part.PadRight(part.Length + ((4 - (part.Length % 4)) % 4), '=')));
    }

    [Fact]
    public async Task ListTagsAsync_EntraCredential_ExchangesForRefreshThenAccessToken()
    {
        var tags = await Client().ListTagsAsync("sysexts/one");

        Assert.Equal(["v1"], tags);
        Assert.Equal(1, _exchanges);
        Assert.Equal(1, _tokens);
        await _entra.Received(1).GetTokenAsync(
            Arg.Is<TokenRequestContext>(c => c.Scopes.SequenceEqual(new[] { "https://containerregistry.azure.net/.default" })),
            Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task ListTagsAsync_Repeated_BothTokensCached()
    {
        var client = Client();

        await client.ListTagsAsync("sysexts/one");
        await client.ListTagsAsync("sysexts/one");
        await client.ListTagsAsync("sysexts/two");
        await client.ListTagsAsync("sysexts/two");

        Assert.Equal(1, _exchanges);
        Assert.Equal(2, _tokens);
        await _entra.Received(1).GetTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>());
        // Only the first request of each repository met a challenge.
        Assert.Equal(6, _routes.Count("/v2/"));
    }

    [Fact]
    public async Task ListTagsAsync_AccessTokenExpired_NewAccessTokenSameRefreshToken()
    {
        var client = Client();

        await client.ListTagsAsync("sysexts/one");
        _time.Advance(TimeSpan.FromMinutes(75));
        await client.ListTagsAsync("sysexts/one");

        Assert.Equal(1, _exchanges);
        Assert.Equal(2, _tokens);
    }

    [Fact]
    public async Task ListTagsAsync_RefreshTokenExpired_ExchangesAgain()
    {
        var client = Client();

        await client.ListTagsAsync("sysexts/one");
        _time.Advance(TimeSpan.FromHours(3));
        await client.ListTagsAsync("sysexts/one");

        Assert.Equal(2, _exchanges);
        Assert.Equal(2, _tokens);
    }

    [Fact]
    public async Task ListTagsAsync_EntraFails_DeniedWithoutDetails()
    {
        _entra.GetTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .Returns<ValueTask<AccessToken>>(_ => throw new InvalidOperationException("IMDS said no for client 1234"));

        var e = await Assert.ThrowsAsync<RegistryException>(() => Client().ListTagsAsync("sysexts/one"));

        Assert.Equal(RegistryFailure.Denied, e.Failure);
        Assert.DoesNotContain("1234", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, _exchanges);
    }
}
