using Azure.Core;
using Microsoft.Extensions.Logging;

namespace SysextFunctions.Registry.Remote.Auth;

/// <summary>
/// Azure Container Registry's Entra ID exchange (https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md), kept
/// apart from the challenge flow as the Azure SDK keeps its refresh- and access-token clients: Entra ID access
/// token → ACR refresh token (<c>POST /oauth2/exchange</c>) → ACR access token for a scope
/// (<c>POST /oauth2/token</c>). Both ACR tokens are cached; Entra ID tokens are cached by the credential itself.
/// </summary>
internal sealed partial class AcrTokenClient(Uri registry, TokenCredential entra, TokenEndpoint endpoint, TokenCache cache, TimeProvider time, ILogger logger)
{
    /// <summary>The Entra ID scope Azure Container Registry accepts for its token exchange.</summary>
    public const string EntraScope = "https://containerregistry.azure.net/.default";

    /// <summary>ACR refresh tokens live about 3 hours; used when the token does not say.</summary>
    public static readonly TimeSpan DefaultRefreshTokenLifetime = TimeSpan.FromHours(3);

    /// <summary>An ACR access token for <paramref name="scope"/> and its lifetime.</summary>
    public async Task<(string Token, TimeSpan Lifetime)> AccessTokenAsync(string service, string? scope, CancellationToken cancellationToken)
    {
        var refreshKey = "acr-refresh " + service;
        string? rejectedRefresh = null;
        for (var attempt = 0; ; attempt++)
        {
            var refreshToken = await cache.GetOrFetchAsync(refreshKey, rejectedRefresh, ct => RefreshTokenAsync(service, ct), cancellationToken).ConfigureAwait(false);
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

            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(registry, "/oauth2/token")) { Content = new FormUrlEncodedContent(form) };
            try
            {
                var response = await endpoint.RequestAsync(request, $"ACR token for {scope ?? "the registry"}", cancellationToken).ConfigureAwait(false);
                var token = response.AccessToken ?? response.Token;
                if (string.IsNullOrEmpty(token))
                {
                    throw new RegistryException(RegistryFailure.InvalidResponse, "ACR token endpoint answered without an access_token");
                }

                return (token, Lifetime(token, response, RegistryAuthHandler.DefaultTokenLifetime));
            }
            catch (RegistryException e) when (e.Failure == RegistryFailure.Denied && attempt == 0)
            {
                // The refresh token may have been revoked before its time: exchange once more.
                rejectedRefresh = refreshToken;
                cache.Remove(refreshKey, refreshToken);
            }
        }
    }

    private async Task<(string, TimeSpan)> RefreshTokenAsync(string service, CancellationToken cancellationToken)
    {
        AccessToken entraToken;
        try
        {
            entraToken = await entra.GetTokenAsync(new TokenRequestContext([EntraScope]), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Azure.Identity's messages explain the failure without secrets; the client only hears "denied".
            LogEntraFailure(logger, registry.Authority, e);
            throw new RegistryException(RegistryFailure.Denied, "no Entra ID token for the registry (see the service log)", e);
        }

        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "access_token",
            ["service"] = service,
            ["access_token"] = entraToken.Token,
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(registry, "/oauth2/exchange")) { Content = new FormUrlEncodedContent(form) };
        var response = await endpoint.RequestAsync(request, "ACR refresh token", cancellationToken).ConfigureAwait(false);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Entra ID gave no token for {Registry}")]
    private static partial void LogEntraFailure(ILogger logger, string registry, Exception exception);
}
