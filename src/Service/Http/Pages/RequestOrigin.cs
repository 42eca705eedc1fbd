using Microsoft.AspNetCore.Http;

namespace SysextFunctions.Http.Pages;

/// <summary>
/// The scheme, host and port the client used to reach us, the one place they are read: the generated transfer
/// definition must point sysupdate back at the same URL. Behind a reverse proxy or Azure's front end (which ends TLS
/// and sends plain HTTP on), <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c> say what the client used; they are
/// honoured only with <c>Proxy:TrustForwardedHeaders</c>, since any client can send them. ASP.NET Core's
/// ForwardedHeaders middleware cannot run inside the Functions worker, so both hostings read them here.
/// </summary>
public static class RequestOrigin
{
    /// <summary>The base URL (<c>scheme://host[:port]/</c> plus any path base), or null when the request names no usable host.</summary>
    public static Uri? Of(HttpRequest request, bool trustForwardedHeaders)
    {
        var scheme = request.Scheme;
        var host = request.Host.Value;
        if (trustForwardedHeaders)
        {
            // With several proxies each appends its value: the last one is what our own, trusted proxy saw.
            if (Last(request.Headers["X-Forwarded-Proto"]) is { } proto)
            {
                scheme = proto.ToLowerInvariant();
            }

            if (Last(request.Headers["X-Forwarded-Host"]) is { } forwardedHost)
            {
                host = forwardedHost;
            }
        }

        // The result goes into a transfer file and a page: only a plain host[:port], nothing that could break a line.
        if (scheme is not ("http" or "https") || string.IsNullOrEmpty(host) || !host.All(IsHostChar)
            || !Uri.TryCreate($"{scheme}://{host}/", UriKind.Absolute, out var origin)
            || origin.UserInfo.Length > 0 || origin.AbsolutePath != "/" || !string.Equals(origin.Authority, host, StringComparison.OrdinalIgnoreCase) && !IsDefaultPort(host, origin))
        {
            return null;
        }

        var pathBase = request.PathBase.HasValue ? request.PathBase.ToUriComponent().TrimEnd('/') : "";
        return new Uri(origin, pathBase + "/");
    }

    private static string? Last(Microsoft.Extensions.Primitives.StringValues values)
    {
        var last = values.Count == 0 ? null : values[^1];
        var comma = last?.LastIndexOf(',') ?? -1;
        var value = (comma < 0 ? last : last![(comma + 1)..])?.Trim();
        return string.IsNullOrEmpty(value) ? null : value;
    }

    // "host:80" for http becomes "host" in Uri.Authority; the rest must come back unchanged.
    private static bool IsDefaultPort(string host, Uri origin) =>
        origin.IsDefaultPort && host.StartsWith(origin.Authority, StringComparison.OrdinalIgnoreCase) && host[origin.Authority.Length..] == $":{origin.Port}";

    private static bool IsHostChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']';
}
