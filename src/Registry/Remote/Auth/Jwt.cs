using System.Buffers.Text;
using System.Text.Json;

namespace SysextFunctions.Registry.Remote.Auth;

public static class Jwt
{
    /// <summary>
    /// The <c>exp</c> of a JWT (RFC 7519 §4.1.4), unverified: only to know when to fetch a new one (ACR's tokens
    /// carry no expires_in). Null when the token is no JWT we can read.
    /// </summary>
    public static DateTimeOffset? Expiry(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        try
        {
            // The payload is base64url without padding (RFC 7515 §2).
            var claims = JsonSerializer.Deserialize(Base64Url.DecodeFromChars(parts[1]), AuthJsonContext.Default.JwtClaims);
            return claims?.Exp is { } exp ? DateTimeOffset.FromUnixTimeSeconds(exp) : null;
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
