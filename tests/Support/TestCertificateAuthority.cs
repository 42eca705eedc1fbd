using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// A throwaway certificate authority made in the test, and one server certificate it issued for 127.0.0.1 and
/// localhost, as PEM files in a temp directory: what a TLS server (the registry, our own Kestrel) and the clients
/// that must trust it (our proxy, systemd-pull) read. Never added to any system store.
/// </summary>
internal sealed class TestCertificateAuthority : IDisposable
{
    private readonly TempDirectory _dir = new("sysext-ca-");

    public TestCertificateAuthority(string name = "Sysext Test CA")
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN={name}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        var caSki = new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, critical: false);
        caRequest.CertificateExtensions.Add(caSki);
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(7));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        serverRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(serverRequest.PublicKey, critical: false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(caSki));
        using var server = serverRequest.Create(ca, now.AddDays(-1), now.AddDays(7), RandomNumberGenerator.GetBytes(16));

        Certificate = X509CertificateLoader.LoadCertificate(ca.RawData);
        File.WriteAllText(CertificatePath, ca.ExportCertificatePem() + "\n");
        File.WriteAllText(ServerCertificatePath, server.ExportCertificatePem() + "\n");
        File.WriteAllText(ServerKeyPath, serverKey.ExportPkcs8PrivateKeyPem() + "\n");
    }

    /// <summary>The CA certificate alone (no key).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA certificate, PEM: what a client is told to trust.</summary>
    public string CertificatePath => _dir.Combine("ca.pem");

    /// <summary>The server certificate for 127.0.0.1 and localhost, PEM.</summary>
    public string ServerCertificatePath => _dir.Combine("server.pem");

    /// <summary>The server certificate's private key, unencrypted PKCS#8 PEM.</summary>
    public string ServerKeyPath => _dir.Combine("server.key");

    /// <summary>An HttpClient that trusts this CA only (for a test's own requests: pushing, probing).</summary>
    public HttpClient CreateHttpClient(bool allowRedirects = true) => new(CreateHandler(allowRedirects));

    /// <summary>A socket handler that trusts this CA only.</summary>
    public SocketsHttpHandler CreateHandler(bool allowRedirects = true)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = allowRedirects };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) != 0)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(Certificate);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
        };
        return handler;
    }

    public void Dispose()
    {
        Certificate.Dispose();
        _dir.Dispose();
    }
}
