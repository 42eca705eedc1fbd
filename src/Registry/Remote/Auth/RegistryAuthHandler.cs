using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace SysextFunctions.Registry.Remote.Auth;

/// <summary>
/// Authenticates requests to one registry: sends them with a cached credential, and on a 401 answers the
/// registry's challenge (Basic, or the distribution token flow https://distribution.github.io/distribution/spec/auth/token/,
/// or the credentials' own <see cref="IAccessTokenProvider"/>) and retries once. Requests to any other origin
/// (registries redirect blobs to storage) go without Authorization.
/// </summary>
public sealed partial class RegistryAuthHandler : DelegatingHandler
{
    /// <summary>The lifetime the token spec assumes when a response has no expires_in.</summary>
    public static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromSeconds(60);

    /// <summary>Set on a request this handler sent with an Authorization header, for the caller to see.</summary>
    public static readonly HttpRequestOptionsKey<bool> AuthorizedOption = new("SysextFunctions.Registry.Authorized");

    /// <summary>
    /// The token scope of a request outside the distribution API (a registry's own listing API), set by whoever
    /// sends it; distribution API paths have theirs from the path (<c>repository:NAME:pull</c>).
    /// </summary>
    public static readonly HttpRequestOptionsKey<string> ScopeOption = new("SysextFunctions.Registry.Scope");

    private readonly Uri _registry;
    private readonly RegistryCredentials _credentials;
    private readonly TokenCache _cache;
    private readonly TokenEndpoint _tokens;
    private readonly TokenRealmPolicy _realms;
    private readonly ILogger _logger;

    public RegistryAuthHandler(Uri registry, RegistryCredentials credentials, TokenCache cache, TokenRealmPolicy realms, ILogger<RegistryAuthHandler> logger)
    {
        _registry = Origin.AsBase(registry);
        _credentials = credentials;
        _cache = cache;
        _realms = realms;
        // Token requests go past this handler, straight to the transport: they carry their own credentials.
        _tokens = new TokenEndpoint(base.SendAsync);
        _logger = logger;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is not { } uri || !Origin.Same(uri, _registry))
        {
            // Credentials are the registry's: never to its storage or anyone else.
            request.Headers.Authorization = null;
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var scope = request.Options.TryGetValue(ScopeOption, out var given) ? given : ScopeOf(uri);
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

        if (!Uri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm) || realm.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(realm.UserInfo))
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, "registry sent a Bearer challenge without a usable realm");
        }

        // The challenge's scope is what the registry wants; the path's is what the next request will look up.
        var scope = challenge.Scope ?? pathScope;
        var stale = rejected?.Scheme == AuthChallenge.Bearer ? rejected.Parameter : null;
        var token = await _cache.GetOrFetchAsync(
            BearerKey(pathScope ?? scope),
            stale,
            ct => FetchTokenAsync(realm, challenge.Service, scope, ct),
            cancellationToken).ConfigureAwait(false);
        _cache.Scheme = AuthChallenge.Bearer;
        return new AuthenticationHeaderValue(AuthChallenge.Bearer, token);
    }

    /// <summary>A token for <paramref name="scope"/>: from the credentials' provider when they have one, else the distribution token flow.</summary>
    private async Task<(string, TimeSpan)> FetchTokenAsync(Uri realm, string? service, string? scope, CancellationToken cancellationToken)
    {
        var (token, lifetime) = _credentials.AccessTokens is { } provider
            ? await provider.GetTokenAsync(new AccessTokenRequest(_registry, service ?? _registry.Host, scope, _tokens), cancellationToken).ConfigureAwait(false)
            : await BearerTokenAsync(realm, service, scope, cancellationToken).ConfigureAwait(false);
        if (!TokenEndpoint.IsUsableToken(token))
        {
            // A provider's token goes into the same header: the same rule as for the token flow's.
            throw new RegistryException(RegistryFailure.InvalidResponse, $"token provider gave a token that is not {TokenEndpoint.MaxTokenLength} or fewer visible ASCII characters");
        }

        LogTokenFetched(_logger, _registry.Authority, scope ?? "", lifetime);
        return (token, lifetime);
    }

    /// <summary>GET realm?service=…&amp;scope=…, anonymously or with Basic credentials.</summary>
    private async Task<RegistryToken> BearerTokenAsync(Uri realm, string? service, string? scope, CancellationToken cancellationToken)
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

        // The realm is the registry's to choose: before anything goes there, it must be somewhere we may go, and the
        // password goes only over TLS or to the registry's own origin (TokenRealmPolicy).
        await _realms.CheckAsync(realm, _credentials.Username is not null, cancellationToken).ConfigureAwait(false);
        var separator = string.IsNullOrEmpty(realm.Query) ? "?" : "&";
        using var request = new HttpRequestMessage(HttpMethod.Get, query.Count == 0 ? realm : new Uri(realm.AbsoluteUri + separator + string.Join('&', query)));
        if (_credentials.Username is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue(AuthChallenge.Basic, _credentials.BasicParameter());
        }

        var response = await _tokens.RequestAsync(request, $"token for {scope ?? "the registry"}", cancellationToken).ConfigureAwait(false);
        var token = response.Token ?? response.AccessToken;
        if (string.IsNullOrEmpty(token))
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, "token service answered without a token");
        }

        return new RegistryToken(token, response.Lifetime(DefaultTokenLifetime));
    }

    /// <summary><c>repository:NAME:pull</c> for a distribution API path under the registry, else null.</summary>
    private string? ScopeOf(Uri uri)
    {
        var path = uri.AbsolutePath;
        var basePath = _registry.AbsolutePath;
        if (!path.StartsWith(basePath, StringComparison.Ordinal))
        {
            return null;
        }

        var match = ApiPath().Match(path[basePath.Length..]);
        return match.Success ? $"repository:{match.Groups["name"].Value}:pull" : null;
    }

    private static string BearerKey(string? scope) => "bearer " + scope;

    [GeneratedRegex(@"\Av2/(?<name>.+)/(?:tags/list|manifests/[^/]+|blobs/[^/]+|referrers/[^/]+)\z", RegexOptions.CultureInvariant)]
    private static partial Regex ApiPath();

    [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, Message = "Fetched a token from {Registry} for {Scope}, valid {Lifetime}")]
    private static partial void LogTokenFetched(ILogger logger, string registry, string scope, TimeSpan lifetime);
}
