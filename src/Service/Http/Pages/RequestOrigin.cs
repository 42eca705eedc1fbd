using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace SysextFunctions.Http.Pages;

/// <summary>
/// The URL clients reach us at, the one place it is decided: the generated transfer definition must point sysupdate
/// back at it. <c>Proxy:PublicUrl</c> fixes it; without it, the scheme, host and port the request names, and behind
/// a reverse proxy or Azure's front end (which ends TLS and sends plain HTTP on) <c>X-Forwarded-Proto</c> and
/// <c>X-Forwarded-Host</c>, honoured only with <c>Proxy:TrustForwardedHeaders</c> and only as set by a trusted proxy
/// (<c>Proxy:TrustedProxies</c>), since any client can send them. ASP.NET Core's ForwardedHeaders middleware cannot
/// run inside the Functions worker, so both hostings read them here.
/// </summary>
public static class RequestOrigin
{
    /// <summary>Why no origin could be made from the request.</summary>
    public enum Refusal
    {
        None,

        /// <summary>No usable host (or forwarded host), or a scheme other than http and https.</summary>
        Unusable,

        /// <summary>A host that <c>AllowedHosts</c> does not allow.</summary>
        NotAllowed,
    }

    /// <summary>The base URL (<c>scheme://host[:port]/</c> plus any path base), or null and why not.</summary>
    public static (Uri? Origin, Refusal Refusal) Of(HttpRequest request, ProxyOptions options)
    {
        if (options.PublicUrl is { } fixedUrl)
        {
            return (new Uri(fixedUrl.AbsoluteUri.TrimEnd('/') + "/"), Refusal.None);
        }

        var scheme = request.Scheme;
        var host = request.Host.Value;
        if (options.TrustForwardedHeaders && Forwarded(request, options) is { } forwarded)
        {
            scheme = forwarded.Proto?.ToLowerInvariant() ?? scheme;
            host = forwarded.Host ?? host;
        }

        // The result goes into a transfer file and a page: only a plain host[:port], nothing that could break a line.
        if (scheme is not ("http" or "https") || string.IsNullOrEmpty(host) || !host.All(IsHostChar)
            || !Uri.TryCreate($"{scheme}://{host}/", UriKind.Absolute, out var origin)
            || origin.UserInfo.Length > 0 || origin.AbsolutePath != "/" || !string.Equals(origin.Authority, host, StringComparison.OrdinalIgnoreCase) && !IsDefaultPort(host, origin))
        {
            return (null, Refusal.Unusable);
        }

        if (!options.AllowsHost(origin.IdnHost))
        {
            return (null, Refusal.NotAllowed);
        }

        var pathBase = request.PathBase.HasValue ? request.PathBase.ToUriComponent().TrimEnd('/') : "";
        return (new Uri(origin, pathBase + "/"), Refusal.None);
    }

    /// <summary>
    /// The forwarded scheme and host as the nearest untrusted party handed them to our trusted proxies. Each proxy
    /// appends to <c>X-Forwarded-For</c> the address it was reached from, and sets (or appends) its own
    /// <c>-Proto</c>/<c>-Host</c>: walking back from the connection's address, while the peer is a trusted proxy its
    /// entries are believed and the next peer is the <c>X-Forwarded-For</c> entry it added. The values of the last
    /// trusted hop are the client's; anything further left the client may have written itself. Null when the
    /// connection does not come from a trusted proxy.
    /// </summary>
    internal static (string? Proto, string? Host)? Forwarded(HttpRequest request, ProxyOptions options)
    {
        var trusted = options.TrustedNetworks;
        var peer = request.HttpContext.Connection.RemoteIpAddress;
        var forwardedFor = Entries(request.Headers["X-Forwarded-For"]);
        var protos = Entries(request.Headers["X-Forwarded-Proto"]);
        var hosts = Entries(request.Headers["X-Forwarded-Host"]);
        (string? Proto, string? Host)? result = null;
        for (var hop = 1; peer is not null && IsTrusted(peer, trusted); hop++)
        {
            // The hop-th entry from the right of each header is what this trusted peer set; a proxy that sets only
            // one -Proto for the whole chain keeps it, as Azure's front end does.
            result = (At(protos, hop) ?? result?.Proto, At(hosts, hop) ?? result?.Host);
            if (hop > forwardedFor.Count || !IPAddress.TryParse(StripPort(forwardedFor[^hop]), out var next))
            {
                break;
            }

            peer = next;
        }

        return result;
    }

    private static bool IsTrusted(IPAddress address, IReadOnlyList<IPNetwork> trusted)
    {
        var candidate = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return trusted.Any(n => n.Contains(candidate));
    }

    private static string? At(List<string> entries, int hop) => hop <= entries.Count ? entries[^hop] : null;

    private static List<string> Entries(StringValues values) =>
        [.. values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries)).Where(v => v.Length > 0)];

    // "1.2.3.4:5678" and "[::1]:5678" are allowed forms of X-Forwarded-For entries.
    private static string StripPort(string entry)
    {
        if (entry.StartsWith('['))
        {
            var end = entry.IndexOf(']', StringComparison.Ordinal);
            return end < 0 ? entry : entry[1..end];
        }

        return entry.Count(c => c == ':') == 1 ? entry[..entry.IndexOf(':', StringComparison.Ordinal)] : entry;
    }

    // "host:80" for http becomes "host" in Uri.Authority; the rest must come back unchanged.
    private static bool IsDefaultPort(string host, Uri origin) =>
        origin.IsDefaultPort && host.StartsWith(origin.Authority, StringComparison.OrdinalIgnoreCase) && host[origin.Authority.Length..] == $":{origin.Port}";

    private static bool IsHostChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']';
}
