using System.Text;
using Microsoft.Extensions.Options;
using SysextFunctions.Trust;

namespace SysextFunctions.Sysupdate;

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

    /// <summary>The signer these settings describe, loaded once per host by <paramref name="keys"/>.</summary>
    public ChecksumsSigner LoadSigner(LoadedKeys keys) =>
        keys.Load((Section, Key, KeyFile, Passphrase, BestBefore), CreateSigner);

    /// <summary>The signer these settings describe: <see cref="ChecksumsSigner.None"/> when no key is set.</summary>
    public ChecksumsSigner CreateSigner()
    {
        if (KeyBytes() is not { } key)
        {
            return BestBefore is null
                ? ChecksumsSigner.None
                : throw new InvalidOperationException("Signing:BestBefore is set but no signing key (Signing:Key or Signing:KeyFile): only a signed list carries the marker");
        }

        return ChecksumsSigner.Load(key, Passphrase, BestBefore);
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

/// <summary>
/// A key that cannot be read or unlocked stops the start, rather than failing every signature request. The key this
/// loads is the one that signs (<see cref="LoadedKeys"/>).
/// </summary>
public sealed class SigningOptionsValidation(LoadedKeys keys) : IValidateOptions<SigningOptions>
{
    public ValidateOptionsResult Validate(string? name, SigningOptions options)
    {
        try
        {
            _ = options.LoadSigner(keys);
            return ValidateOptionsResult.Success;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }
}
