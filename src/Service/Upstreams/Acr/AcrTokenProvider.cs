using Azure.Core;
using Microsoft.Extensions.Logging;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Remote.Auth;

namespace SysextFunctions.Upstreams.Acr;

/// <summary>
/// Azure Container Registry's Entra ID exchange (https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md), behind
/// the generic client's <see cref="IAccessTokenProvider"/> as the Azure SDK keeps its refresh- and access-token
/// clients apart from the challenge flow: Entra ID access token → ACR refresh token (<c>POST /oauth2/exchange</c>)
/// → ACR access token for a scope (<c>POST /oauth2/token</c>), both at the registry's own origin. The access tokens
/// are cached per scope by the auth handler; the refresh tokens here, per service (bounded, as the service is the
/// registry's to name); Entra ID tokens by the credential itself. One per upstream: it outlives the pooled handlers.
/// </summary>
public sealed partial class AcrTokenProvider(TokenCredential entra, TimeProvider time, ILogger<AcrTokenProvider> logger) : IAccessTokenProvider, IDisposable
{
    /// <summary>The Entra ID scope Azure Container Registry accepts for its token exchange.</summary>
    public const string EntraScope = "https://containerregistry.azure.net/.default";

    /// <summary>ACR refresh tokens live about 3 hours; used when the token does not say.</summary>
    public static readonly TimeSpan DefaultRefreshTokenLifetime = TimeSpan.FromHours(3);

    private readonly TokenCache _refreshTokens = new(time, sizeLimit: 256 * 1024);

    /// <summary>An ACR access token for the request's scope and its lifetime.</summary>
    public async Task<RegistryToken> GetTokenAsync(AccessTokenRequest request, CancellationToken cancellationToken = default)
    {
        var refreshKey = "acr-refresh " + request.Service;
        string? rejectedRefresh = null;
        for (var attempt = 0; ; attempt++)
        {
            var refreshToken = await _refreshTokens.GetOrFetchAsync(refreshKey, rejectedRefresh, ct => RefreshTokenAsync(request, ct), cancellationToken).ConfigureAwait(false);
            var form = new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token",
                ["service"] = request.Service,
                ["refresh_token"] = refreshToken,
            };
            if (request.Scope is not null)
            {
                form["scope"] = request.Scope;
            }

            using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(request.Registry, "/oauth2/token")) { Content = new FormUrlEncodedContent(form) };
            try
            {
                var response = await request.Endpoint.RequestAsync(message, $"ACR token for {request.Scope ?? "the registry"}", cancellationToken).ConfigureAwait(false);
                var token = response.AccessToken ?? response.Token;
                if (string.IsNullOrEmpty(token))
                {
                    throw new RegistryException(RegistryFailure.InvalidResponse, "ACR token endpoint answered without an access_token");
                }

                return new RegistryToken(token, Lifetime(token, response, RegistryAuthHandler.DefaultTokenLifetime));
            }
            catch (RegistryException e) when (e.Failure == RegistryFailure.Denied && attempt == 0)
            {
                // The refresh token may have been revoked before its time: exchange once more.
                rejectedRefresh = refreshToken;
                _refreshTokens.Remove(refreshKey, refreshToken);
            }
        }
    }

    public void Dispose() => _refreshTokens.Dispose();

    private async Task<(string, TimeSpan)> RefreshTokenAsync(AccessTokenRequest request, CancellationToken cancellationToken)
    {
        AccessToken entraToken;
        try
        {
            entraToken = await entra.GetTokenAsync(new TokenRequestContext([EntraScope]), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Azure.Identity's messages explain the failure without secrets; the client only hears "denied".
            LogEntraFailure(logger, request.Registry.Authority, e);
            throw new RegistryException(RegistryFailure.Denied, "no Entra ID token for the registry (see the service log)", e);
        }

        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "access_token",
            ["service"] = request.Service,
            ["access_token"] = entraToken.Token,
        };
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(request.Registry, "/oauth2/exchange")) { Content = new FormUrlEncodedContent(form) };
        var response = await request.Endpoint.RequestAsync(message, "ACR refresh token", cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrEmpty(response.RefreshToken))
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, "ACR exchange answered without a refresh_token");
        }

        return (response.RefreshToken, Lifetime(response.RefreshToken, response, DefaultRefreshTokenLifetime));
    }

    private TimeSpan Lifetime(string token, TokenResponse response, TimeSpan fallback)
    {
        if (response.ExpiresIn is > 0)
        {
            return response.Lifetime(fallback);
        }

        var left = Jwt.Expiry(token) - time.GetUtcNow();
        return left > TimeSpan.Zero ? TimeSpan.FromTicks(Math.Min(left.Value.Ticks, TokenEndpoint.MaxLifetime.Ticks)) : fallback;
    }

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "Entra ID gave no token for {Registry}")]
    private static partial void LogEntraFailure(ILogger logger, string registry, Exception exception);
}
