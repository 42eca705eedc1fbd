using System.Net;
using Microsoft.Extensions.Options;

namespace SysextFunctions.Http;

/// <summary>How file bytes reach the client.</summary>
public enum BlobDelivery
{
    /// <summary>Pass on the registry's redirect to its storage when it gives one; stream otherwise.</summary>
    Auto,

    /// <summary>307 to the registry's blob URL: only for registries clients can reach anonymously.</summary>
    Redirect,

    /// <summary>Always stream the blob through this service.</summary>
    Stream,
}

/// <summary>The <c>Proxy</c> configuration section.</summary>
public sealed class ProxyOptions
{
    public const string Section = "Proxy";

    public BlobDelivery BlobDelivery { get; set; } = BlobDelivery.Auto;

    /// <summary>
    /// The URL clients reach this server at (<c>https://updates.example.com/</c>, with a path if it is served below
    /// one). When set, generated transfer definitions and the catalogue page use it, and nothing the request says
    /// (<c>Host</c>, <c>X-Forwarded-*</c>) changes them: one definition for every client, safe in any cache.
    /// </summary>
    public Uri? PublicUrl { get; set; }

    /// <summary>
    /// Take <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c> as the URL clients used, for generated transfer
    /// definitions, but only as set by the proxies in <see cref="TrustedProxies"/> (without <see cref="PublicUrl"/>).
    /// </summary>
    public bool TrustForwardedHeaders { get; set; }

    /// <summary>
    /// The addresses (<c>10.0.0.5</c>) or networks (<c>10.0.0.0/8</c>) of the reverse proxies in front of this server
    /// whose <c>X-Forwarded-*</c> headers are believed; none means loopback only. Walking back from the connection's own address through
    /// <c>X-Forwarded-For</c>, the values set by the first proxy that is not trusted are the client's: later, nearer
    /// values a client could not have written; earlier ones it could.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>
    /// The root <c>AllowedHosts</c> setting (ASP.NET Core's name): host names separated by <c>;</c>, <c>*.example.com</c>
    /// for any name below one, <c>*</c> (the default) for any. Where an answer is built from the request's <c>Host</c>
    /// (no <see cref="PublicUrl"/>), a host not allowed gets 400 instead of a definition that names it.
    /// </summary>
    public string? AllowedHosts { get; set; }

    /// <summary><see cref="AllowedHosts"/> as a list; empty when any host is allowed.</summary>
    public IReadOnlyList<string> AllowedHostList =>
        [.. (AllowedHosts ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <summary>Whether a host (without port) is allowed by <see cref="AllowedHosts"/>.</summary>
    public bool AllowsHost(string host)
    {
        var allowed = AllowedHostList;
        return allowed.Count == 0 || allowed.Any(a => a == "*"
            || (a.StartsWith("*.", StringComparison.Ordinal) && host.EndsWith(a[1..], StringComparison.OrdinalIgnoreCase) && host.Length > a.Length - 1)
            || string.Equals(a, host, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// <see cref="TrustedProxies"/> parsed (<see cref="ProxyOptionsValidation"/> has checked them at start); none
    /// configured means the loopback networks, a reverse proxy on the same machine, as ASP.NET Core's own default.
    /// </summary>
    public IReadOnlyList<IPNetwork> TrustedNetworks => TrustedProxies.Count == 0
        ? [IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("::1/128")]
        : [.. TrustedProxies.Select(p => ParseNetwork(p)!.Value)];

    /// <summary>An address or a network in CIDR notation; null when it is neither.</summary>
    internal static IPNetwork? ParseNetwork(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (IPAddress.TryParse(value, out var address) && !value.Contains('/', StringComparison.Ordinal))
        {
            return new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        }

        return IPNetwork.TryParse(value, out var network) ? network : null;
    }
}

/// <summary>Checks the <c>Proxy</c> section at start, with a message naming the setting.</summary>
public sealed class ProxyOptionsValidation : IValidateOptions<ProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, ProxyOptions options)
    {
        if (!Enum.IsDefined(options.BlobDelivery))
        {
            return ValidateOptionsResult.Fail($"{ProxyOptions.Section}:BlobDelivery must be auto, redirect or stream");
        }

        if (options.PublicUrl is { } url
            && (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https") || url.UserInfo.Length > 0 || url.Query.Length > 0 || url.Fragment.Length > 0))
        {
            return ValidateOptionsResult.Fail($"{ProxyOptions.Section}:PublicUrl must be an absolute http or https URL without credentials, query or fragment");
        }

        foreach (var proxy in options.TrustedProxies)
        {
            if (ProxyOptions.ParseNetwork(proxy) is null)
            {
                return ValidateOptionsResult.Fail($"{ProxyOptions.Section}:TrustedProxies: '{Registry.LogText.Escape(proxy)}' is neither an IP address nor a network (10.0.0.0/8)");
            }
        }

        foreach (var host in options.AllowedHostList)
        {
            if (host != "*" && !(host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host).All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']'))
            {
                return ValidateOptionsResult.Fail($"AllowedHosts: '{Registry.LogText.Escape(host)}' is no host name (example.com, *.example.com or *)");
            }
        }

        return ValidateOptionsResult.Success;
    }
}
