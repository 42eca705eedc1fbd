using System.Net;
using System.Text.Json;

namespace SysextFunctions.Registry.Remote.Auth;

/// <summary>
/// Sends a token request (to a distribution token realm, or to ACR's <c>/oauth2/</c> endpoints) past the auth
/// handler, and reads its JSON answer through the capped reader; a failed status becomes a failure.
/// </summary>
internal sealed class TokenEndpoint(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> send)
{
    /// <summary>Token responses are a few KiB; a larger one is refused.</summary>
    public const int MaxResponseBytes = 1024 * 1024;

    public async Task<TokenResponse> RequestAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken)
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
        try
        {
            return JsonSerializer.Deserialize(body, AuthJsonContext.Default.TokenResponse)
                ?? throw new RegistryException(RegistryFailure.InvalidResponse, $"token response for {what} is empty");
        }
        catch (JsonException e)
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, $"token response for {what} is not valid JSON", e);
        }
    }
}
