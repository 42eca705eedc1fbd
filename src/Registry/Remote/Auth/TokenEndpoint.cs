using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SysextFunctions.Registry.Remote.Auth;

/// <summary>
/// Sends a token request (to a distribution token realm, or to ACR's <c>/oauth2/</c> endpoints) past the auth
/// handler, and reads its JSON answer through the capped reader; a failed status becomes a failure. What comes
/// back is checked before anyone uses it: a token goes into an <c>Authorization</c> header, so it must be a
/// short run of visible ASCII (a CR or LF in it would otherwise fail the next request with an exception of the
/// HTTP stack, a bare 500).
/// </summary>
public sealed partial class TokenEndpoint(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> send)
{
    /// <summary>Token responses are a few KiB; a larger one is refused.</summary>
    public const int MaxResponseBytes = 1024 * 1024;

    /// <summary>The longest token we accept: registry JWTs are 1–3 KiB; the token cache holds many.</summary>
    public const int MaxTokenLength = 16 * 1024;

    /// <summary>The longest a token is used, whatever its <c>expires_in</c> says.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(24);

    /// <summary>Sends <paramref name="request"/> and reads its token answer; <paramref name="what"/> names it in failures (no secrets).</summary>
    public async Task<TokenResponse> RequestAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken = default)
    {
        using var response = await send(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            throw new RegistryException(
                response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? RegistryFailure.Denied
                    : response.StatusCode == HttpStatusCode.TooManyRequests ? RegistryFailure.Throttled
                    : status >= 500 ? RegistryFailure.Unavailable : RegistryFailure.Denied,
                $"token service answered {status} for {what}");
        }

        var body = await CappedBody.ReadAsync(response.Content, MaxResponseBytes, $"token response for {what}", cancellationToken).ConfigureAwait(false);
        TokenResponse parsed;
        try
        {
            parsed = JsonSerializer.Deserialize(body, AuthJsonContext.Default.TokenResponse)
                ?? throw new RegistryException(RegistryFailure.InvalidResponse, $"token response for {what} is empty");
        }
        catch (JsonException e)
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, $"token response for {what} is not valid JSON", e);
        }

        foreach (var token in new[] { parsed.Token, parsed.AccessToken, parsed.RefreshToken })
        {
            if (token is not null && !IsUsableToken(token))
            {
                throw new RegistryException(RegistryFailure.InvalidResponse, $"token response for {what} holds a token that is not {MaxTokenLength} or fewer visible ASCII characters");
            }
        }

        return parsed;
    }

    /// <summary>What an <c>Authorization</c> or form field may carry: visible ASCII (RFC 9110 §5.5 minus spaces), not too long.</summary>
    internal static bool IsUsableToken(string token) => token.Length <= MaxTokenLength && VisibleAscii().IsMatch(token);

    [GeneratedRegex(@"\A[\x21-\x7E]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex VisibleAscii();
}
