using System.Security.Cryptography;
using System.Text;

namespace SysextFunctions.Trust;

/// <summary>
/// The publisher keys a repository's tags must be signed with: a tag is listed when its manifest carries a valid
/// signature by any one of them. Made once at start-up from configuration; <see cref="Id"/> keys every cached
/// verification result, so two sets never share one. Owns its keys: disposing it disposes them.
/// </summary>
public sealed class CosignKeySet : IDisposable
{
    private CosignKeySet(IReadOnlyList<CosignKey> keys)
    {
        Keys = keys;
        Id = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(string.Join(',', keys.Select(k => k.Id).Order(StringComparer.Ordinal)))))[..16];
    }

    public IReadOnlyList<CosignKey> Keys { get; }

    /// <summary>Names this set of keys, whatever their order.</summary>
    public string Id { get; }

    /// <summary>
    /// The keys of a setting, or null when it holds none. Each entry is the PEM text of one or more public keys, or
    /// the path of a file holding them.
    /// </summary>
    /// <param name="setting">The setting's name (<c>Trust:CosignKeys</c>), for messages.</param>
    /// <exception cref="InvalidOperationException">An entry is no usable public key; the message says which and why.</exception>
    public static CosignKeySet? Load(IEnumerable<string?>? entries, string setting)
    {
        var keys = new List<CosignKey>();
        var index = 0;
        try
        {
            foreach (var entry in entries ?? [])
            {
                var name = $"{setting}:{index++}";
                if (string.IsNullOrWhiteSpace(entry))
                {
                    continue;
                }

                try
                {
                    ReadEntry(entry.Trim(), keys);
                }
                catch (FormatException e)
                {
                    throw new InvalidOperationException($"{name}: {e.Message}", e);
                }
            }
        }
        catch
        {
            // The keys read before the bad one are nobody's: let go of them now.
            keys.ForEach(k => k.Dispose());
            throw;
        }

        // One key configured twice counts once; the second copy is let go.
        var distinct = keys.DistinctBy(k => k.Id).ToList();
        keys.Except(distinct).ToList().ForEach(k => k.Dispose());
        return distinct.Count == 0 ? null : new CosignKeySet(distinct);
    }

    public void Dispose()
    {
        foreach (var key in Keys)
        {
            key.Dispose();
        }
    }

    /// <summary>Adds the keys of one entry to <paramref name="keys"/>, which the caller disposes if this throws.</summary>
    private static void ReadEntry(string entry, List<CosignKey> keys)
    {
        string text;
        var source = "the PEM text";
        if (entry.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            text = entry;
        }
        else
        {
            source = $"key file '{entry}'";
            try
            {
                text = File.ReadAllText(entry);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new FormatException($"cannot read {source} ({e.Message}); give the path of a PEM public key file (cosign.pub) or the PEM text", e);
            }
        }

        var before = keys.Count;
        var rest = text.AsMemory();
        while (PemEncoding.TryFind(rest.Span, out var fields))
        {
            var label = rest.Span[fields.Label].ToString();
            var base64 = rest.Span[fields.Base64Data];
            rest = rest[fields.Location.End..];
            if (label != "PUBLIC KEY")
            {
                throw new FormatException(label switch
                {
                    _ when label.Contains("PRIVATE KEY", StringComparison.Ordinal) => $"{source} holds a private key ({label}); configure the public key (cosign.pub), never the private one",
                    "CERTIFICATE" => $"{source} holds a certificate: keyless (Fulcio) signing is not supported, configure the signer's public key",
                    _ => $"{source} holds a '{label}' block; a public key ('PUBLIC KEY', as in cosign.pub) is needed",
                });
            }

            var der = new byte[fields.DecodedDataLength];
            if (!Convert.TryFromBase64Chars(base64, der, out var written))
            {
                throw new FormatException($"{source}: the PEM block is not valid base64");
            }

            try
            {
                keys.Add(CosignKey.FromSubjectPublicKeyInfo(der[..written]));
            }
            catch (FormatException e)
            {
                throw new FormatException($"{source}: {e.Message}", e);
            }
        }

        if (keys.Count == before)
        {
            throw new FormatException($"{source} holds no PEM public key ('-----BEGIN PUBLIC KEY-----', as in cosign.pub)");
        }
    }
}
