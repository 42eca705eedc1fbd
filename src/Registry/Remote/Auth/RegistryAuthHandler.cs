using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure.Core;
using Microsoft.Extensions.Logging;

namespace SysextFunctions.Registry.Remote.Auth;

/// <summary>
/// Authenticates requests to one registry: sends them with a cached credential, and on a 401 answers the
/// registry's challenge (Basic, or the distribution token flow https://distribution.github.io/distribution/spec/auth/token/,
/// or Azure Container Registry's Entra ID exchange https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md) and
/// retries once. Requests to any other origin (registries redirect blobs to storage) go without Authorization.
/// </summary>
public sealed partial class RegistryAuthHandler : DelegatingHandler
{
    /// <summary>The Entra ID scope Azure Container Registry accepts for its token exchange.</summary>
    public const string AcrEntraScope = "https://containerregistry.azure.net/.default";

    /// <summary>The lifetime the token spec assumes when a response has no expires_in.</summary>
    public static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromSeconds(60);

    /// <summary>ACR refresh tokens live about 3 hours; used when the token does not say.</summary>
    public static readonly TimeSpan DefaultRefreshTokenLifetime = TimeSpan.FromHours(3);

    /// <summary>Set on a request this handler sent with an Authorization header, for the caller to see.</summary>
    public static readonly HttpRequestOptionsKey<bool> AuthorizedOption = new("SysextFunctions.Registry.Authorized");

    private const int MaxTokenResponseBytes = 1024 * 1024;

    private readonly Uri _registry;
    private readonly RegistryCredentials _credentials;
    private readonly TokenCache _cache;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public RegistryAuthHandler(Uri registry, RegistryCredentials credentials, TokenCache cache, TimeProvider time, ILogger<RegistryAuthHandler> logger)
    {
        _registry = registry.AbsoluteUri.EndsWith('/') ? registry : new Uri(registry.AbsoluteUri + "/");
        _credentials = credentials;
        _cache = cache;
        _time = time;
        _logger = logger;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is not { } uri || !SameOrigin(uri, _registry))
        {
            // Credentials are the registry's: never to its storage or anyone else.
            request.Headers.Authorization = null;
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var scope = ScopeOf(uri);
        var sent = CachedAuthorization(scope);
        request.Headers.Authorization = sent;
        request.Options.Set(AuthorizedOption, sent is not null);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized || !AuthChallenge.TryParse(response, out var challenge))
        {
            return response;
        }

        AuthenticationHeaderValue? authorization;
        try
        {
            authorization = await AnswerAsync(challenge, scope, sent, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            response.Dispose();
            throw;
        }

        if (authorization is null)
        {
            // Nothing to answer the challenge with: the 401 stands and becomes Denied.
            return response;
        }

        response.Dispose();
        request.Headers.Authorization = authorization;
        request.Options.Set(AuthorizedOption, true);
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What to send before any challenge, from what this registry asked for last time.</summary>
    private AuthenticationHeaderValue? CachedAuthorization(string? scope) => _cache.Scheme switch
    {
        AuthChallenge.Basic when _credentials.Username is not null => new AuthenticationHeaderValue(AuthChallenge.Basic, _credentials.BasicParameter()),
        AuthChallenge.Bearer when _cache.Get(BearerKey(scope)) is { } token => new AuthenticationHeaderValue(AuthChallenge.Bearer, token),
        _ => null,
    };

    private async Task<AuthenticationHeaderValue?> AnswerAsync(AuthChallenge challenge, string? pathScope, AuthenticationHeaderValue? rejected, CancellationToken cancellationToken)
    {
        if (challenge.IsBasic)
        {
            if (_credentials.Username is null || rejected?.Scheme == AuthChallenge.Basic)
            {
                return null;
            }

            _cache.Scheme = AuthChallenge.Basic;
            return new AuthenticationHeaderValue(AuthChallenge.Basic, _credentials.BasicParameter());
        }

        if (!Uri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm) || realm.Scheme is not ("http" or "https"))
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, "registry sent a Bearer challenge without a usable realm");
        }

        // The challenge's scope is what the registry wants; the path's is what the next request will look up.
        var scope = challenge.Scope ?? pathScope;
        var stale = rejected?.Scheme == AuthChallenge.Bearer ? rejected.Parameter : null;
        var token = await _cache.GetOrFetchAsync(
            BearerKey(pathScope ?? scope),
            stale,
            ct => _credentials.TokenCredential is { } entra
                ? AcrTokenAsync(entra, challenge.Service ?? _registry.Host, scope, ct)
                : BearerTokenAsync(realm, challenge.Service, scope, ct),
            cancellationToken).ConfigureAwait(false);
        _cache.Scheme = AuthChallenge.Bearer;
        return new AuthenticationHeaderValue(AuthChallenge.Bearer, token);
    }

    /// <summary>GET realm?service=…&amp;scope=…, anonymously or with Basic credentials.</summary>
    private async Task<(string, TimeSpan)> BearerTokenAsync(Uri realm, string? service, string? scope, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (service is not null)
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }

        if (scope is not null)
        {
            // A challenge may ask for several scopes, space-separated; the spec sends each as its own parameter.
            query.AddRange(scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => "scope=" + Uri.EscapeDataString(s)));
        }

        var separator = string.IsNullOrEmpty(realm.Query) ? "?" : "&";
        using var request = new HttpRequestMessage(HttpMethod.Get, query.Count == 0 ? realm : new Uri(realm.AbsoluteUri + separator + string.Join('&', query)));
        if (_credentials.Username is not null)
        {
            // Passwords travel to the realm only over TLS, or to the registry's own host (a local registry).
            if (realm.Scheme != Uri.UriSchemeHttps && !string.Equals(realm.Host, _registry.Host, StringComparison.OrdinalIgnoreCase))
            {
                throw new RegistryException(RegistryFailure.Denied, "registry's token realm is plain HTTP on another host; credentials not sent");
            }

            request.Headers.Authorization = new AuthenticationHeaderValue(AuthChallenge.Basic, _credentials.BasicParameter());
        }

        var response = await TokenRequestAsync(request, $"token for {scope ?? "the registry"}", cancellationToken).ConfigureAwait(false);
        var token = response.Token ?? response.AccessToken;
        if (string.IsNullOrEmpty(token))
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, "token service answered without a token");
        }

        var lifetime = response.ExpiresIn is { } seconds and > 0 ? TimeSpan.FromSeconds(seconds) : DefaultTokenLifetime;
        LogTokenFetched(_logger, _registry.Authority, scope ?? "", lifetime);
        return (token, lifetime);
    }

    /// <summary>
    /// Entra ID access token → ACR refresh token (POST /oauth2/exchange) → ACR access token for the scope
    /// (POST /oauth2/token). Both ACR tokens are cached; Entra ID tokens are cached by the credential itself.
    /// </summary>
    private async Task<(string, TimeSpan)> AcrTokenAsync(TokenCredential entra, string service, string? scope, CancellationToken cancellationToken)
    {
        var refreshKey = "acr-refresh " + service;
        string? rejectedRefresh = null;
        for (var attempt = 0; ; attempt++)
        {
            var refreshToken = await _cache.GetOrFetchAsync(refreshKey, rejectedRefresh, ct => AcrRefreshTokenAsync(entra, service, ct), cancellationToken).ConfigureAwait(false);
            var form = new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token",
                ["service"] = service,
                ["refresh_token"] = refreshToken,
            };
            if (scope is not null)
            {
                form["scope"] = scope;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_registry, "/oauth2/token")) { Content = new FormUrlEncodedContent(form) };
            try
            {
                var response = await TokenRequestAsync(request, $"ACR token for {scope ?? "the registry"}", cancellationToken).ConfigureAwait(false);
                var token = response.AccessToken ?? response.Token;
                if (string.IsNullOrEmpty(token))
                {
                    throw new RegistryException(RegistryFailure.InvalidResponse, "ACR token endpoint answered without an access_token");
                }

                var lifetime = Lifetime(token, response.ExpiresIn, DefaultTokenLifetime);
                LogTokenFetched(_logger, _registry.Authority, scope ?? "", lifetime);
                return (token, lifetime);
            }
            catch (RegistryException e) when (e.Failure == RegistryFailure.Denied && attempt == 0)
            {
                // The refresh token may have been revoked before its time: exchange once more.
                rejectedRefresh = refreshToken;
                _cache.Remove(refreshKey, refreshToken);
            }
        }
    }

    private async Task<(string, TimeSpan)> AcrRefreshTokenAsync(TokenCredential entra, string service, CancellationToken cancellationToken)
    {
        AccessToken entraToken;
        try
        {
            entraToken = await entra.GetTokenAsync(new TokenRequestContext([AcrEntraScope]), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Azure.Identity's messages explain the failure without secrets; the client only hears "denied".
            LogEntraFailure(_logger, _registry.Authority, e);
            throw new RegistryException(RegistryFailure.Denied, "no Entra ID token for the registry (see the service log)", e);
        }

        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "access_token",
            ["service"] = service,
            ["access_token"] = entraToken.Token,
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_registry, "/oauth2/exchange")) { Content = new FormUrlEncodedContent(form) };
        var response = await TokenRequestAsync(request, "ACR refresh token", cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrEmpty(response.RefreshToken))
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, "ACR exchange answered without a refresh_token");
        }

        return (response.RefreshToken, Lifetime(response.RefreshToken, response.ExpiresIn, DefaultRefreshTokenLifetime));
    }

    private TimeSpan Lifetime(string token, long? expiresIn, TimeSpan fallback)
    {
        if (expiresIn is > 0)
        {
            return TimeSpan.FromSeconds(expiresIn.Value);
        }

        var left = Jwt.Expiry(token) - _time.GetUtcNow();
        return left > TimeSpan.Zero ? left.Value : fallback;
    }

    /// <summary>Sends a token request past this handler and reads its JSON answer, capped; statuses become failures.</summary>
    private async Task<TokenResponse> TokenRequestAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        using var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            throw new RegistryException(
                response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? RegistryFailure.Denied
                    : response.StatusCode == HttpStatusCode.TooManyRequests ? RegistryFailure.Throttled
                    : status >= 500 ? RegistryFailure.Unavailable : RegistryFailure.Denied,
                $"token service answered {status} for {what}");
        }

        if (response.Content.Headers.ContentLength > MaxTokenResponseBytes)
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, $"token response for {what} is too large");
        }

        try
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            return body.Length > MaxTokenResponseBytes
                ? throw new RegistryException(RegistryFailure.InvalidResponse, $"token response for {what} is too large")
                : JsonSerializer.Deserialize(body, AuthJsonContext.Default.TokenResponse)
                    ?? throw new RegistryException(RegistryFailure.InvalidResponse, $"token response for {what} is empty");
        }
        catch (JsonException e)
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, $"token response for {what} is not valid JSON", e);
        }
    }

    /// <summary><c>repository:NAME:pull</c> for a distribution API path under the registry (<c>metadata_read</c> for ACR's <c>_tags</c>), else null.</summary>
    private string? ScopeOf(Uri uri)
    {
        var path = uri.AbsolutePath;
        var basePath = _registry.AbsolutePath;
        if (!path.StartsWith(basePath, StringComparison.Ordinal))
        {
            return null;
        }

        var match = ApiPath().Match(path[basePath.Length..]);
        // ACR's own listing (AcrTagListing) asks for metadata_read, not pull: cached under its own scope.
        return !match.Success ? null
            : match.Groups["acr"].Success ? $"repository:{match.Groups["acr"].Value}:metadata_read"
            : $"repository:{match.Groups["name"].Value}:pull";
    }

    private static string BearerKey(string? scope) => "bearer " + scope;

    private static bool SameOrigin(Uri a, Uri b) =>
        Uri.Compare(a, b, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) == 0;

    [GeneratedRegex("^(?:v2/(?<name>.+)/(?:tags/list|manifests/[^/]+|blobs/[^/]+)|acr/v1/(?<acr>.+)/_tags)$", RegexOptions.CultureInvariant)]
    private static partial Regex ApiPath();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Fetched a token from {Registry} for {Scope}, valid {Lifetime}")]
    private static partial void LogTokenFetched(ILogger logger, string registry, string scope, TimeSpan lifetime);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Entra ID gave no token for {Registry}")]
    private static partial void LogEntraFailure(ILogger logger, string registry, Exception exception);
}
