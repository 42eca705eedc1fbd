using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SysextFunctions.Upstreams;

/// <summary>
/// The certificate authorities one upstream registry is trusted by (<c>CaCertificateFile</c>): a private registry's
/// own CA, trusted for that upstream's connections only (the registry, its token service, storage it redirects
/// to), never added to the machine's store, and in addition to the system's CAs, which storage behind a private
/// registry usually needs.
/// </summary>
public static class UpstreamTrust
{
    /// <summary>Reads every certificate of a PEM file; a file that is missing, unreadable or holds none stops the start.</summary>
    /// <exception cref="InvalidOperationException">The message names the setting and says what is wrong.</exception>
    public static X509Certificate2Collection Load(string path, string setting)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{setting}: cannot read {path}: {e.Message}", e);
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"{setting}: {path} holds a PEM certificate that cannot be read: {e.Message}", e);
        }

        if (certificates.Count == 0)
        {
            throw new InvalidOperationException($"{setting}: {path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }

        return certificates;
    }

    /// <summary>
    /// TLS options that accept a certificate the system trusts or one that chains to one of <paramref name="roots"/>
    /// (and names the host, as always). Null roots: the system's defaults.
    /// </summary>
    public static SslClientAuthenticationOptions ClientOptions(X509Certificate2Collection? roots) => roots is null
        ? new SslClientAuthenticationOptions()
        : new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Trusted(roots, certificate, chain, errors) };

    private static bool Trusted(X509Certificate2Collection roots, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        // A missing certificate or a wrong host name is never excused; only the chain is judged anew.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        // Private CAs seldom publish revocation lists, and an unreachable one would fail every connection.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // Intermediates the server sent along may complete the path; they are not trusted by being sent.
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        var leaf = certificate as X509Certificate2;
        using var loaded = leaf is null ? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()) : null;
        return chain.Build(leaf ?? loaded!);
    }
}

/// <summary>An upstream's <c>CaCertificateFile</c>, loaded; null roots: the system's CAs only.</summary>
public sealed record UpstreamCaCertificates(X509Certificate2Collection? Roots);
