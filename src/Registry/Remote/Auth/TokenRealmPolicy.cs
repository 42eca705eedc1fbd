using System.Net;
using System.Net.Sockets;

namespace SysextFunctions.Registry.Remote.Auth;

/// <summary>Host name to addresses; the seam where tests put their own name service.</summary>
public interface IHostAddressResolver
{
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken = default);
}

/// <summary>The system's resolver (DNS, /etc/hosts).</summary>
public sealed class SystemHostAddressResolver : IHostAddressResolver
{
    public static SystemHostAddressResolver Instance { get; } = new();

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken = default) =>
        Dns.GetHostAddressesAsync(host, cancellationToken);
}

/// <summary>
/// Where a registry's <c>WWW-Authenticate</c> realm may send us. The realm is the registry's to choose, so it is a
/// request forgery vector (an instance metadata endpoint, an internal service) and a way to draw the password to
/// a place that should not see it. The rules:
/// <list type="bullet">
/// <item>A realm at exactly the registry's origin (scheme, host and port, RFC 6454) is the registry itself: always
/// allowed, with the password.</item>
/// <item>A realm at one of the <see cref="TrustedOrigins"/> (the <c>TokenRealms</c> setting) is allowed wherever it
/// resolves; the password goes there only over HTTPS.</item>
/// <item>Any other realm must be HTTPS, and must not resolve to a loopback, link-local, private, shared (CGNAT) or
/// unspecified address unless the registry itself resolves to one.</item>
/// </list>
/// A realm that breaks a rule gets no request at all: the challenge fails as an invalid registry answer (502).
/// </summary>
public sealed class TokenRealmPolicy(Uri registry, IReadOnlyList<Uri> trustedOrigins, IHostAddressResolver resolver)
{
    public Uri Registry { get; } = registry;

    public IReadOnlyList<Uri> TrustedOrigins { get; } = trustedOrigins;

    /// <summary>The registry's origin only, resolved by the system: for clients built without settings.</summary>
    public static TokenRealmPolicy For(Uri registry) => new(registry, [], SystemHostAddressResolver.Instance);

    /// <summary>Throws unless a token request may go to <paramref name="realm"/>, with the password when <paramref name="withPassword"/>.</summary>
    /// <exception cref="RegistryException">InvalidResponse for a realm we will not ask; Denied when only the password may not go there.</exception>
    public async Task CheckAsync(Uri realm, bool withPassword, CancellationToken cancellationToken = default)
    {
        if (realm.Scheme is not ("http" or "https"))
        {
            throw Refused(realm, "is not an http or https URL");
        }

        if (Origin.Same(realm, Registry))
        {
            return;
        }

        var https = realm.Scheme == Uri.UriSchemeHttps;
        if (TrustedOrigins.Any(origin => Origin.Same(realm, origin)))
        {
            if (withPassword && !https)
            {
                throw new RegistryException(RegistryFailure.Denied, $"token realm {Origin.Of(realm)} is plain HTTP on another origin; credentials not sent");
            }

            return;
        }

        if (!https)
        {
            throw Refused(realm, "is plain HTTP on another origin than the registry's");
        }

        var realmAddresses = await ResolveAsync(realm, cancellationToken).ConfigureAwait(false);
        if (realmAddresses.Any(IsInternal))
        {
            var registryAddresses = await ResolveAsync(Registry, cancellationToken).ConfigureAwait(false);
            if (!registryAddresses.Any(IsInternal))
            {
                throw Refused(realm, "resolves to a loopback, link-local or private address");
            }
        }
    }

    /// <summary>Loopback, link-local, private (RFC 1918, RFC 4193), shared (RFC 6598) or unspecified: not for a public registry to point us at.</summary>
    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal;
        }

        var b = address.GetAddressBytes();
        return b[0] is 0 or 10 or 127
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 172 && b[1] is >= 16 and <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 100 && b[1] is >= 64 and <= 127);
    }

    private async Task<IPAddress[]> ResolveAsync(Uri uri, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(uri.IdnHost, out var literal))
        {
            return [literal];
        }

        try
        {
            return await resolver.ResolveAsync(uri.IdnHost, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new RegistryException(RegistryFailure.Unavailable, $"cannot resolve {uri.IdnHost}", e);
        }
    }

    private static RegistryException Refused(Uri realm, string why) =>
        new(RegistryFailure.InvalidResponse, $"registry's token realm {Origin.Of(realm)} {why}; not asked");
}
