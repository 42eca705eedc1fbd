using System.Text.Json.Serialization;

namespace SysextFunctions.Registry.Remote.Auth;

/// <summary>
/// What a token endpoint answers: https://distribution.github.io/distribution/spec/auth/token/#token-response-fields
/// (<c>token</c>, or its OAuth2 alias <c>access_token</c>), and ACR's <c>/oauth2/exchange</c> (<c>refresh_token</c>).
/// </summary>
public sealed record TokenResponse
{
    [JsonPropertyName("token")]
    public string? Token { get; init; }

    [JsonPropertyName("access_token")]
    public string? AccessToken { get; init; }

    [JsonPropertyName("refresh_token")]
    public string? RefreshToken { get; init; }

    /// <summary>Seconds; the spec's default when absent is 60.</summary>
    [JsonPropertyName("expires_in")]
    public long? ExpiresIn { get; init; }

    /// <summary>
    /// How long to use the token: <see cref="ExpiresIn"/> when positive, capped at <see cref="TokenEndpoint.MaxLifetime"/>
    /// (a registry may say 9223372036854775807; a token we keep too long is only refused and fetched again), else
    /// <paramref name="fallback"/>.
    /// </summary>
    public TimeSpan Lifetime(TimeSpan fallback) =>
        ExpiresIn is { } seconds && seconds > 0 ? TimeSpan.FromSeconds(Math.Min(seconds, (long)TokenEndpoint.MaxLifetime.TotalSeconds)) : fallback;
}

/// <summary>The one claim we read from a JWT: when it expires (RFC 7519 §4.1.4).</summary>
internal sealed record JwtClaims
{
    [JsonPropertyName("exp")]
    public long? Exp { get; init; }
}

[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(JwtClaims))]
[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowReadingFromString)]
internal sealed partial class AuthJsonContext : JsonSerializerContext;
