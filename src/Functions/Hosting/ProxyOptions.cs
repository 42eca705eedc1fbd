using System.Text;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Hosting;

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
    /// Take <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c> as the URL clients used, for generated transfer
    /// definitions: only behind a proxy that sets them (Azure's front end sets <c>X-Forwarded-Proto</c>).
    /// </summary>
    public bool TrustForwardedHeaders { get; set; }
}

/// <summary>
/// The <c>Signing</c> configuration section: the OpenPGP secret key that signs SHA256SUMS for <c>Verify=yes</c>.
/// <see cref="Key"/> (the key itself; in Azure an app setting backed by a Key Vault reference) wins over
/// <see cref="KeyFile"/>. Neither set: nothing is signed.
/// </summary>
public sealed class SigningOptions
{
    public const string Section = "Signing";

    public string? KeyFile { get; set; }

    public string? Key { get; set; }

    public string? Passphrase { get; set; }

    /// <summary>
    /// When set (e.g. <c>7.00:00:00</c>), a signed SHA256SUMS starts with a BEST-BEFORE marker dated this far ahead,
    /// which systemd ≥ 260 enforces: a signed list replayed after that day is refused. Unset: no marker.
    /// </summary>
    public TimeSpan? BestBefore { get; set; }

    /// <summary>The signer these settings describe: <see cref="ChecksumsSigner.None"/> when no key is set.</summary>
    public ChecksumsSigner CreateSigner(TimeProvider? time = null)
    {
        if (KeyBytes() is not { } key)
        {
            return BestBefore is null
                ? ChecksumsSigner.None
                : throw new InvalidOperationException("Signing:BestBefore is set but no signing key (Signing:Key or Signing:KeyFile): only a signed list carries the marker");
        }

        return ChecksumsSigner.Load(key, Passphrase, BestBefore, time);
    }

    /// <summary>
    /// The key itself (armored text, or base64 of the binary key, as a secret store holds it) wins over a key file.
    /// </summary>
    private byte[]? KeyBytes()
    {
        if (!string.IsNullOrWhiteSpace(Key))
        {
            var trimmed = Key.Trim();
            if (trimmed.StartsWith("-----BEGIN", StringComparison.Ordinal))
            {
                return Encoding.UTF8.GetBytes(trimmed);
            }

            var binary = new byte[trimmed.Length];
            return Convert.TryFromBase64String(trimmed, binary, out var length)
                ? binary[..length]
                : throw new InvalidOperationException("Signing:Key is neither an armored OpenPGP key nor base64");
        }

        return string.IsNullOrWhiteSpace(KeyFile) ? null : File.ReadAllBytes(KeyFile);
    }
}
