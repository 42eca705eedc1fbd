using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// A token server for the registry's <c>auth: token</c> mode (https://distribution.github.io/distribution/spec/auth/jwt/),
/// on Kestrel at a free loopback port. It signs ES256 JWTs with a self-signed certificate made here, and puts
/// that certificate in the JWT header's <c>x5c</c>: distribution 2.8 verifies the chain against
/// <c>rootcertbundle</c>, which is the same certificate's PEM. Every token request is recorded. It serves HTTPS
/// with a certificate of its own test CA (<see cref="Ca"/>): a realm on another origin than the registry's gets
/// no request over plain HTTP (TokenRealmPolicy).
/// </summary>
internal sealed class TokenIssuer : IAsyncDisposable
{
    public const string Service = "sysext-test-registry";
    public const string Issuer = "sysext-test-issuer";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _certificate;
    private readonly TempDirectory _directory = new("sysext-token-");
    private WebApplication? _app;

    public TokenIssuer()
    {
        var request = new CertificateRequest("CN=sysext test token issuer", _key, HashAlgorithmName.SHA256);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        RootCertBundle = _directory.Combine("root.pem");
        File.WriteAllText(RootCertBundle, _certificate.ExportCertificatePem());
    }

    public string RootCertBundle { get; }

    /// <summary>The CA of the issuer's TLS certificate: what its clients must trust.</summary>
    public TestCertificateAuthority Ca { get; } = new("Sysext Test Token CA");

    public Uri Realm { get; private set; } = null!;

    public ConcurrentQueue<TokenRequest> Requests { get; } = new();

    /// <summary>When set, only these Basic credentials get tokens; others get 401.</summary>
    public (string Username, string Password)? RequiredCredentials { get; set; }

    /// <summary>The expires_in we announce; null leaves it out (clients then assume 60 s).</summary>
    public int? ExpiresIn { get; set; } = 300;

    /// <summary>Answer with the OAuth2 name <c>access_token</c> instead of <c>token</c>.</summary>
    public bool UseAccessTokenField { get; set; }

    /// <summary>How long the issuer takes to answer, to make concurrent clients overlap.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Sign for another audience, so that the registry refuses every token.</summary>
    public bool WrongAudience { get; set; }

    /// <summary>The registry's config section for this issuer.</summary>
    public string RegistryConfig => $"""
        auth:
          token:
            realm: {Realm}
            service: {Service}
            issuer: {Issuer}
            rootcertbundle: {RootCertBundle}
        """;

    public static async Task<TokenIssuer> StartAsync()
    {
        var issuer = new TokenIssuer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen =>
            listen.UseHttps(X509Certificate2.CreateFromPemFile(issuer.Ca.ServerCertificatePath, issuer.Ca.ServerKeyPath))));
        // The test output folder holds the app's appsettings.json (Default: Information); this server keeps to warnings.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = nameof(LogLevel.Warning) });
        var app = builder.Build();
        app.MapGet("/token", (Delegate)issuer.HandleAsync);
        await app.StartAsync();
        issuer._app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        issuer.Realm = new Uri(new Uri(address), "/token");
        return issuer;
    }

    /// <summary>A token for pushing test content, minted directly.</summary>
    public string Mint(params string[] repositories) =>
        Sign(new JsonArray([.. repositories.Select(r => Access(r, ["pull", "push"]))]), TimeSpan.FromMinutes(10));

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        var scopes = context.Request.Query["scope"].Select(s => s!).ToArray();
        var authorization = context.Request.Headers.Authorization.ToString();
        Requests.Enqueue(new TokenRequest(context.Request.Query["service"].ToString(), scopes, authorization));
        if (Delay > TimeSpan.Zero)
        {
            // simulates a slow peer: a token server that takes its time, so that concurrent callers overlap
            await Task.Delay(Delay);
        }

        if (RequiredCredentials is { } required)
        {
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{required.Username}:{required.Password}"));
            if (authorization != expected)
            {
                return Results.Unauthorized();
            }
        }

        var access = new JsonArray();
        foreach (var scope in scopes)
        {
            // repository:NAME:actions; a name may contain no colon, the actions are the last part.
            var parts = scope.Split(':');
            if (parts is ["repository", var name, var actions])
            {
                access.Add(Access(name, actions.Split(',').Where(a => a == "pull").ToArray()));
            }
        }

        var token = Sign(access, TimeSpan.FromMinutes(10));
        var body = new JsonObject { [UseAccessTokenField ? "access_token" : "token"] = token, ["issued_at"] = DateTimeOffset.UtcNow.ToString("O") };
        if (ExpiresIn is { } expiresIn)
        {
            body["expires_in"] = expiresIn;
        }

        return Results.Text(body.ToJsonString(), "application/json");
    }

    private static JsonObject Access(string name, string[] actions) =>
        new() { ["type"] = "repository", ["name"] = name, ["actions"] = new JsonArray([.. actions.Select(a => (JsonNode)a)]) };

    private string Sign(JsonArray access, TimeSpan lifetime)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new JsonObject
        {
            ["typ"] = "JWT",
            ["alg"] = "ES256",
            // Standard base64 DER, as RFC 7515 §4.1.6 says and distribution decodes.
            ["x5c"] = new JsonArray(Convert.ToBase64String(_certificate.RawData)),
        };
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = "sysext-test",
            ["aud"] = WrongAudience ? "someone-else" : Service,
            ["exp"] = now + (long)lifetime.TotalSeconds,
            ["nbf"] = now - 10,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = access,
        };
        var signingInput = $"{Base64Url(JsonSerializer.SerializeToUtf8Bytes(header))}.{Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims))}";
        // ES256 signatures are r||s (IEEE P1363), which is .NET's default format.
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        return $"{signingInput}.{Base64Url(signature)}";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _certificate.Dispose();
        _key.Dispose();
        Ca.Dispose();
        _directory.Dispose();
    }
}

internal sealed record TokenRequest(string Service, string[] Scopes, string Authorization);
