using System.Net;
using System.Text.Json;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Registry.Remote;

/// <summary>
/// A registry's failed answer as a <see cref="RegistryException"/>: its status as a <see cref="RegistryFailure"/>,
/// and the OCI error code of its body
/// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes) when it sent one.
/// </summary>
internal static class ErrorResponse
{
    /// <summary>Error bodies are short; a longer one is not read for its code.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public static async Task<RegistryException> ToExceptionAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var code = await ErrorCodeAsync(response, cancellationToken).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        var (failure, text) = response.StatusCode switch
        {
            HttpStatusCode.NotFound => (RegistryFailure.NotFound, $"{what} not found"),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => (RegistryFailure.Denied, $"registry denied access to {what}"),
            HttpStatusCode.TooManyRequests => (RegistryFailure.Throttled, $"registry throttled the request for {what}"),
            // Push-back as much as 429 (a busy registry, or one being throttled by its own storage): the client is
            // told to come back, with the registry's Retry-After when it gave one.
            HttpStatusCode.ServiceUnavailable => (RegistryFailure.Throttled, $"registry is busy (503) on {what}"),
            HttpStatusCode.GatewayTimeout => (RegistryFailure.Timeout, $"registry timed out on {what}"),
            _ when status >= 500 => (RegistryFailure.Unavailable, $"registry failed with {status} on {what}"),
            _ => (RegistryFailure.InvalidResponse, $"registry answered {status} on {what}"),
        };

        return new RegistryException(failure, code is null ? text : $"{text} ({code})")
        {
            Code = code,
            RetryAfter = response.Headers.RetryAfter?.Delta,
        };
    }

    private static async Task<string?> ErrorCodeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            return null;
        }

        try
        {
            var body = await CappedBody.ReadAsync(response.Content, MaxBodyBytes, "error body", cancellationToken).ConfigureAwait(false);
            var errors = JsonSerializer.Deserialize(body, OciJsonContext.Default.ErrorBody)?.Errors;
            var code = errors is { Count: > 0 } ? errors[0].Code : null;
            // Only the spec's upper-case code words travel on: a message could echo anything.
            return code is not null && code.Length <= 64 && code.All(c => c is (>= 'A' and <= 'Z') or '_') ? code : null;
        }
        catch (Exception e) when (e is JsonException or RegistryException)
        {
            // The status says enough; a body we cannot or will not read only loses the code.
            return null;
        }
    }
}
