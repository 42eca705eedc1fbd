using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SysextFunctions.Registry.Remote.Auth;
using SysextFunctions.Tests.Support;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Tests.Integration.Service.Http;

/// <summary>
/// Hostile registries against the whole server (issue 20, items 2, 3 and 6): each row is a fake registry at the
/// HttpMessageHandler seam under its own name service, whose <c>WWW-Authenticate</c> realm or token answer is the
/// attack. Each row asserts the client's status, body and headers, and that nothing reached where it must not: the
/// fake records every request the server sent, and the password is never in one that left the rules.
/// </summary>
public sealed class HostileRegistryAuthTests
{
    private const string Password = "s3cret-password";
    private const string BasicAuthorization = "Basic dXNlcjpzM2NyZXQtcGFzc3dvcmQ=";
    private const string Scope = "service=registry.test&scope=repository%3Atool%3Apull";

    /// <summary>The names every row's registry, realms and token services have: public, private, loopback, link-local.</summary>
    private static FakeHostResolver Names() => new FakeHostResolver()
        .Add("registry.test", "203.0.113.10")
        .Add("tokens.test", "198.51.100.7")
        .Add("internal.test", "10.1.2.3")
        .Add("loop.test", "127.0.0.1")
        .Add("metadata.test", "169.254.169.254")
        .Add("ula.test", "fd00::1")
        .Add("mapped.test", "::ffff:127.0.0.1")
        .Add("cgnat.test", "100.64.0.9")
        .Add("both.test", "198.51.100.8", "192.168.1.1")
        .Add("private-registry.test", "10.9.9.9");

    public sealed record Row(
        string Attack,
        string Realm,
        int Status,
        string Body,
        bool WithPassword = true,
        string Registry = "https://registry.test",
        string TokenBody = """{"token":"good-token","expires_in":300}""",
        string? TrustedRealm = null)
    {
        public override string ToString() => Attack;
    }

    public static TheoryData<Row> Rows() =>
    [
        // Item 2: the password only to an HTTPS realm or exactly the registry's origin.
        new Row("plain HTTP realm on the registry's host, another port", "http://registry.test:8080/token", 502, "plain HTTP on another origin"),
        new Row("plain HTTP realm on another public host, anonymous", "http://tokens.test/token", 502, "plain HTTP on another origin", WithPassword: false),
        new Row("plain HTTP realm on a trusted origin, with a password", "http://tokens.test/token", 502, "credentials not sent", TrustedRealm: "http://tokens.test"),
        new Row("realm with user info", "https://someone:pw@tokens.test/token", 502, "without a usable realm"),
        new Row("realm with a file: URL", "file:///etc/passwd", 502, "without a usable realm"),
        // Item 3: a realm is no way into the internal network.
        new Row("realm at the instance metadata address", "https://169.254.169.254/metadata/identity/oauth2/token", 502, "loopback, link-local or private"),
        new Row("realm named for the metadata address", "https://metadata.test/token", 502, "loopback, link-local or private"),
        new Row("realm on a private address", "https://internal.test/token", 502, "loopback, link-local or private"),
        new Row("realm on loopback", "https://loop.test/token", 502, "loopback, link-local or private"),
        new Row("realm on loopback, IPv4-mapped IPv6", "https://mapped.test/token", 502, "loopback, link-local or private"),
        new Row("realm on an IPv6 unique local address", "https://ula.test/token", 502, "loopback, link-local or private"),
        new Row("realm on a shared (CGNAT) address", "https://cgnat.test/token", 502, "loopback, link-local or private"),
        new Row("realm with one public and one private address", "https://both.test/token", 502, "loopback, link-local or private"),
        new Row("realm literal loopback", "https://127.0.0.1:9/token", 502, "loopback, link-local or private"),
        // Item 6: what the token service answers is checked.
        new Row("token with CR LF", "https://tokens.test/token", 502, "not 16384 or fewer visible ASCII", TokenBody: """{"token":"abc\r\nX-Injected: 1","expires_in":300}"""),
        new Row("access_token with a NUL", "https://tokens.test/token", 502, "not 16384 or fewer visible ASCII", TokenBody: """{"access_token":"abc\u0000def"}"""),
        new Row("token of 20,000 characters", "https://tokens.test/token", 502, "not 16384 or fewer visible ASCII", TokenBody: $$"""{"token":"{{new string('a', 20_000)}}"}"""),
        new Row("expires_in beyond a 64-bit integer", "https://tokens.test/token", 502, "not valid JSON", TokenBody: """{"token":"good-token","expires_in":1e400}"""),
        new Row("expires_in not a number", "https://tokens.test/token", 502, "not valid JSON", TokenBody: """{"token":"good-token","expires_in":"soon"}"""),
        // The rules do not get in the way of what registries really do.
        new Row("expires_in of long.MaxValue, clamped", "https://tokens.test/token", 200, "", TokenBody: """{"token":"good-token","expires_in":9223372036854775807}"""),
        new Row("negative expires_in, the default lifetime", "https://tokens.test/token", 200, "", TokenBody: """{"token":"good-token","expires_in":-5}"""),
        new Row("HTTPS realm on another public host (Docker Hub's shape)", "https://tokens.test/token", 200, ""),
        new Row("HTTPS realm on the registry's host, another port", "https://registry.test:8443/token", 200, ""),
        new Row("plain HTTP realm at exactly the registry's origin", "http://registry.test/token", 200, "", Registry: "http://registry.test"),
        new Row("private realm of a private registry", "https://internal.test/token", 200, "", Registry: "https://private-registry.test"),
        new Row("private realm named in TokenRealms", "https://internal.test/token", 200, "", TrustedRealm: "https://internal.test"),
        new Row("plain HTTP realm named in TokenRealms, anonymous", "http://tokens.test/token", 200, "", WithPassword: false, TrustedRealm: "http://tokens.test"),
    ];

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Listing_HostileRealmOrToken_RefusedAndNothingSentWhereItMustNot(Row row)
    {
        var registry = row.Registry;
        var routes = new RouteHandler();
        var realmRequested = new Uri(row.Realm.Contains("://", StringComparison.Ordinal) && !row.Realm.StartsWith("file:", StringComparison.Ordinal)
            ? $"{row.Realm}?{Scope.Replace("registry.test", new Uri(registry).Host, StringComparison.Ordinal)}"
            : "https://unused.test/");
        routes.On(HttpMethod.Get, realmRequested.AbsoluteUri, _ => RouteHandler.Json(row.TokenBody));
        routes.On(HttpMethod.Get, $"{registry}/v2/tool/tags/list?n=100", r =>
        {
            if (r.Headers.Authorization is { Scheme: "Bearer", Parameter: "good-token" })
            {
                return RouteHandler.Json("""{"name":"tool","tags":[]}""");
            }

            var challenge = new HttpResponseMessage(HttpStatusCode.Unauthorized);
            challenge.Headers.TryAddWithoutValidation("WWW-Authenticate", $"Bearer realm=\"{row.Realm}\",service=\"{new Uri(registry).Host}\",scope=\"repository:tool:pull\"");
            return challenge;
        });
        var settings = new Dictionary<string, string?>();
        if (row.WithPassword)
        {
            settings["Registry:Username"] = "user";
            settings["Registry:Password"] = Password;
        }

        if (row.TrustedRealm is { } trusted)
        {
            settings["Registry:TokenRealms:0"] = trusted;
        }

        var names = Names();
        await using var proxy = await ProxyServer.StartAsync(new Uri(registry), settings, builder =>
        {
            builder.Services.AddSingleton<IHostAddressResolver>(names);
            builder.Services.AddHttpClient(UpstreamOptions.ClientName(UpstreamOptions.DefaultId)).ConfigurePrimaryHttpMessageHandler(() => routes);
        });
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/tool/SHA256SUMS");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(row.Status, (int)response.StatusCode);
        Assert.Contains(row.Body, body, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, body, StringComparison.Ordinal);
        var sent = routes.Requests.ToArray();
        if (row.Status != 200)
        {
            Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType?.ToString());
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
            Assert.Equal(["\n"], body.Split(row.Body).Skip(1).Select(rest => rest[^1..]));
        }

        var realmGotRequests = sent.Any(r => r.Uri.AbsoluteUri == realmRequested.AbsoluteUri);
        var tokenBodyRefused = row.Status != 200 && row.Body is "not valid JSON" or "not 16384 or fewer visible ASCII";
        if (row.Status == 200 || tokenBodyRefused)
        {
            // The token service was asked once, the password only where the rules let it go.
            var token = Assert.Single(sent, r => r.Uri.AbsoluteUri == realmRequested.AbsoluteUri);
            Assert.Equal(row.WithPassword && (realmRequested.Scheme == "https" || realmRequested.Authority == new Uri(registry).Authority) ? BasicAuthorization : null, token.Authorization);
        }
        else
        {
            // Nothing at all went to the realm, nor anywhere but the registry's own tag list.
            Assert.False(realmGotRequests);
            Assert.All(sent, r => Assert.Equal($"{registry}/v2/tool/tags/list?n=100", r.Uri.AbsoluteUri));
        }

        if (tokenBodyRefused)
        {
            // The bad token was never put in a header: the registry heard only the unauthenticated attempt(s).
            Assert.All(sent.Where(r => r.Uri.AbsolutePath == "/v2/tool/tags/list"), r => Assert.Null(r.Authorization));
        }

        // The registry itself never sees the password in a Bearer flow.
        Assert.DoesNotContain(sent, r => r.Uri.AbsolutePath.StartsWith("/v2/", StringComparison.Ordinal) && r.Authorization == BasicAuthorization);
    }
}
