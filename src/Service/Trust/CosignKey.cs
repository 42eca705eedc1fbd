using System.Security.Cryptography;

namespace SysextFunctions.Trust;

/// <summary>
/// A publisher's public key, as <c>cosign generate-key-pair</c> writes it (<c>cosign.pub</c>, an ECDSA P-256
/// SubjectPublicKeyInfo in PEM), or an ECDSA P-384/P-521 or RSA key imported into cosign. Signatures are ASN.1 DER
/// (ECDSA) or PKCS#1 v1.5 (RSA), over SHA-256 as cosign makes them. Ed25519 keys are refused: .NET has no Ed25519.
/// </summary>
public sealed class CosignKey : IDisposable
{
    private readonly AsymmetricAlgorithm _key;
    private readonly Lock _lock = new();

    private CosignKey(AsymmetricAlgorithm key, string id, string description)
    {
        _key = key;
        Id = id;
        Description = description;
    }

    /// <summary>Base64 of the SHA-256 of the DER public key: cosign's key hint in a Sigstore bundle.</summary>
    public string Id { get; }

    /// <summary>The key type, for messages ("ECDSA P-256").</summary>
    public string Description { get; }

    /// <summary>Reads one key from DER SubjectPublicKeyInfo bytes.</summary>
    /// <exception cref="FormatException">Not an ECDSA (P-256, P-384, P-521) or RSA (2048 bits or more) public key.</exception>
    public static CosignKey FromSubjectPublicKeyInfo(byte[] der)
    {
        var id = Convert.ToBase64String(SHA256.HashData(der));
        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportSubjectPublicKeyInfo(der, out _);
            var curve = ecdsa.ExportParameters(false).Curve;
            var name = curve.Oid.FriendlyName switch
            {
                "nistP256" or "ECDSA_P256" => "ECDSA P-256",
                "nistP384" or "ECDSA_P384" => "ECDSA P-384",
                "nistP521" or "ECDSA_P521" => "ECDSA P-521",
                _ => null,
            };
            if (name is null)
            {
                ecdsa.Dispose();
                throw new FormatException($"ECDSA curve {curve.Oid.FriendlyName ?? curve.Oid.Value} is not supported (P-256, P-384, P-521 are)");
            }

            return new CosignKey(ecdsa, id, name);
        }
        catch (CryptographicException)
        {
            ecdsa.Dispose();
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportSubjectPublicKeyInfo(der, out _);
            if (rsa.KeySize < 2048)
            {
                throw new FormatException($"RSA key of {rsa.KeySize} bits is too small (2048 or more)");
            }

            return new CosignKey(rsa, id, $"RSA {rsa.KeySize}");
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
            throw new FormatException("not an ECDSA or RSA public key (Ed25519 keys are not supported)");
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    /// <summary>Whether <paramref name="signature"/> is this key's signature of <paramref name="data"/>.</summary>
    public bool VerifyData(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        lock (_lock)
        {
            return _key switch
            {
                // cosign signs with SHA-256 whatever the curve; sigstore-go picks the curve's own hash for P-384/P-521.
                ECDsa ecdsa => ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)
                    || (ecdsa.KeySize == 384 && ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA384, DSASignatureFormat.Rfc3279DerSequence))
                    || (ecdsa.KeySize == 521 && ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA512, DSASignatureFormat.Rfc3279DerSequence)),
                RSA rsa => rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                _ => false,
            };
        }
    }

    /// <summary>Whether <paramref name="signature"/> is this key's signature of data whose SHA-256 is <paramref name="sha256"/>.</summary>
    public bool VerifySha256(ReadOnlySpan<byte> sha256, ReadOnlySpan<byte> signature)
    {
        if (sha256.Length != SHA256.HashSizeInBytes)
        {
            return false;
        }

        lock (_lock)
        {
            return _key switch
            {
                ECDsa ecdsa => ecdsa.VerifyHash(sha256, signature, DSASignatureFormat.Rfc3279DerSequence),
                RSA rsa => rsa.VerifyHash(sha256, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                _ => false,
            };
        }
    }

    public void Dispose()
    {
        // Under the lock: a verification in progress finishes with the key it started with.
        lock (_lock)
        {
            _key.Dispose();
        }
    }
}
