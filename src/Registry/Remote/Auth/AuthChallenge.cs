using System.Net.Http.Headers;
using System.Text;

namespace SysextFunctions.Registry.Remote.Auth;

/// <summary>
/// One <c>WWW-Authenticate</c> challenge (RFC 9110 §11.6.1) as registries send it: <c>Basic realm="…"</c>, or
/// the distribution token flow's <c>Bearer realm="…",service="…",scope="…"</c>
/// (https://distribution.github.io/distribution/spec/auth/token/).
/// </summary>
public readonly record struct AuthChallenge(string Scheme, string? Realm, string? Service, string? Scope)
{
    public const string Bearer = "Bearer";
    public const string Basic = "Basic";

    public bool IsBearer => string.Equals(Scheme, Bearer, StringComparison.OrdinalIgnoreCase);

    public bool IsBasic => string.Equals(Scheme, Basic, StringComparison.OrdinalIgnoreCase);

    /// <summary>The challenge of a 401 we can answer: Bearer preferred over Basic, as Docker's client does.</summary>
    public static bool TryParse(HttpResponseMessage response, out AuthChallenge challenge)
    {
        challenge = default;
        AuthChallenge? basic = null;
        foreach (var header in response.Headers.WwwAuthenticate)
        {
            var parsed = Parse(header);
            if (parsed.IsBearer)
            {
                challenge = parsed;
                return true;
            }

            basic ??= parsed.IsBasic ? parsed : null;
        }

        challenge = basic ?? default;
        return basic is not null;
    }

    public static AuthChallenge Parse(AuthenticationHeaderValue header)
    {
        var parameters = ParseParameters(header.Parameter);
        return new AuthChallenge(
            header.Scheme,
            parameters.GetValueOrDefault("realm"),
            parameters.GetValueOrDefault("service"),
            parameters.GetValueOrDefault("scope"));
    }

    /// <summary>
    /// <c>name=token</c> or <c>name="quoted string"</c> pairs separated by commas. Quoted values may hold commas
    /// (<c>scope="repository:a:pull,push"</c>) and backslash escapes.
    /// </summary>
    internal static Dictionary<string, string> ParseParameters(string? text)
    {
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (string.IsNullOrEmpty(text))
        {
            return parameters;
        }

        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] is ',' || char.IsWhiteSpace(text[i])))
            {
                i++;
            }

            var nameStart = i;
            while (i < text.Length && text[i] is not ('=' or ','))
            {
                i++;
            }

            var name = text[nameStart..i].Trim();
            if (i >= text.Length || text[i] != '=')
            {
                // A token68 or a bare word: nothing a registry sends that we need.
                continue;
            }

            i++;
            while (i < text.Length && text[i] == ' ')
            {
                i++;
            }

            string value;
            if (i < text.Length && text[i] == '"')
            {
                var builder = new StringBuilder();
                i++;
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                    }

                    builder.Append(text[i]);
                    i++;
                }

                i++;
                value = builder.ToString();
            }
            else
            {
                var valueStart = i;
                while (i < text.Length && text[i] != ',')
                {
                    i++;
                }

                value = text[valueStart..i].Trim();
            }

            if (name.Length > 0)
            {
                parameters.TryAdd(name, value);
            }
        }

        return parameters;
    }
}
