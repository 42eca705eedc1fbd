using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// Makes OpenPGP detached signatures (RFC 4880 §5.2, signature type 0x00 over the exact bytes) of the SHA256SUMS
/// we serve, which is what systemd-pull hands to <c>gpg --verify SIG -</c> with the SHA256SUMS on stdin when
/// sysupdate runs with <c>Verify=yes</c>. Without a key it signs nothing and the signature names stay 404.
/// Disposed with its host (<see cref="Trust.LoadedKeys"/>): it lets go of the private key and signs no more.
/// </summary>
public sealed class ChecksumsSigner : IDisposable
{
    private volatile PgpPrivateKey? _privateKey;
    private volatile bool _disposed;
    private readonly PublicKeyAlgorithmTag _algorithm;

    private ChecksumsSigner(PgpSecretKey? key, PgpPrivateKey? privateKey, TimeSpan? bestBefore = null)
    {
        _privateKey = privateKey;
        IsEnabled = privateKey is not null;
        BestBefore = bestBefore;
        _algorithm = key?.PublicKey.Algorithm ?? default;
        KeyId = key?.KeyId;
    }

    /// <summary>A signer with no key: <see cref="Sign"/> returns null.</summary>
    public static ChecksumsSigner None { get; } = new(null, null);

    public bool IsEnabled { get; }

    /// <summary>The id of the (sub)key that signs, for logs.</summary>
    public long? KeyId { get; }

    /// <summary>
    /// How far ahead a signed list's BEST-BEFORE marker is dated (<c>Signing:BestBefore</c>); null: no marker.
    /// </summary>
    public TimeSpan? BestBefore { get; }

    /// <summary>
    /// The date of the BEST-BEFORE marker a list signed now carries (UTC), or null when nothing is signed or no
    /// <see cref="BestBefore"/> is set: an unsigned list could be rewritten anyway, so a marker in it proves nothing.
    /// </summary>
    public DateOnly? BestBeforeDate(DateTimeOffset now) =>
        IsEnabled && BestBefore is { } ahead ? DateOnly.FromDateTime((now + ahead).UtcDateTime) : null;

    /// <summary>
    /// Loads an OpenPGP secret key, ASCII-armored or binary (what <c>gpg --export-secret-keys [--armor]</c> writes).
    /// The signing key is a subkey flagged for signing when there is one, else the primary key.
    /// </summary>
    public static ChecksumsSigner Load(byte[] secretKey, string? passphrase, TimeSpan? bestBefore = null)
    {
        PgpSecretKeyRingBundle bundle;
        try
        {
            using var decoded = PgpUtilities.GetDecoderStream(new MemoryStream(secretKey));
            bundle = new PgpSecretKeyRingBundle(decoded);
        }
        catch (Exception e) when (e is IOException or PgpException)
        {
            throw new InvalidOperationException("Signing key is not an OpenPGP secret key (armored or binary)", e);
        }

        var key = bundle.GetKeyRings()
            .SelectMany(ring => ring.GetSecretKeys())
            .Where(k => k.IsSigningKey && !k.IsPrivateKeyEmpty)
            .OrderBy(k => IsFlaggedSubkeyForSigning(k) ? 0 : k.IsMasterKey ? 1 : 2)
            .FirstOrDefault()
            ?? throw new InvalidOperationException("Signing key holds no secret key that can sign");

        try
        {
            return new ChecksumsSigner(key, key.ExtractPrivateKey(passphrase?.ToCharArray() ?? []), bestBefore);
        }
        catch (PgpException e)
        {
            // Never echo the passphrase: BouncyCastle's message does not, and neither does ours.
            throw new InvalidOperationException("Signing key cannot be unlocked: wrong or missing Signing:Passphrase", e);
        }
    }

    /// <summary>A binary detached signature of <paramref name="content"/>, or null without a key.</summary>
    /// <exception cref="ObjectDisposedException">The host that loaded the key is gone.</exception>
    public byte[]? Sign(byte[] content)
    {
        // The key first, then the flag: Dispose sets the flag before it lets go of the key.
        var privateKey = _privateKey;
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (privateKey is null)
        {
            return null;
        }

        var generator = new PgpSignatureGenerator(_algorithm, HashAlgorithmTag.Sha256);
        generator.InitSign(PgpSignature.BinaryDocument, privateKey);
        generator.Update(content);
        using var output = new MemoryStream();
        using (var packets = new BcpgOutputStream(output))
        {
            generator.Generate().Encode(packets);
        }

        return output.ToArray();
    }

    /// <summary>The same signature ASCII-armored (RFC 4880 §6.2), for the <c>.asc</c> name.</summary>
    public static byte[] Armor(byte[] signature)
    {
        using var output = new MemoryStream();
        using (var armored = new ArmoredOutputStream(output))
        {
            armored.Write(signature);
        }

        return output.ToArray();
    }

    /// <summary>
    /// Lets go of the private key (BouncyCastle's keys hold no native handle to free). <see cref="None"/>, shared by
    /// every host, has no key and stays usable.
    /// </summary>
    public void Dispose()
    {
        if (IsEnabled)
        {
            _disposed = true;
            _privateKey = null;
        }
    }

    private static bool IsFlaggedSubkeyForSigning(PgpSecretKey key) =>
        !key.IsMasterKey && key.PublicKey.GetSignatures()
            .Any(s => s.HasSubpackets && (s.GetHashedSubPackets().GetKeyFlags() & PgpKeyFlags.CanSign) != 0);
}
