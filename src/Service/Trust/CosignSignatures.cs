using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using SysextFunctions.Registry.Content;

namespace SysextFunctions.Trust;

/// <summary>
/// Checks one cosign signature of a manifest digest against a key set, in either format cosign writes. The
/// signature is checked first and only then what it covers, which must name exactly the digest asked about: a valid
/// signature of another manifest, moved next to this one, proves nothing about it.
/// </summary>
public static class CosignSignatures
{
    /// <summary>cosign 2's payload type: <c>critical.type</c> of a simple-signing payload.</summary>
    public const string SimpleSigningType = "cosign container image signature";

    /// <summary>The in-toto predicate cosign 3 uses for a plain signature (not an attestation).</summary>
    public const string CosignSignPredicate = "https://sigstore.dev/cosign/sign/v1";

    public const string InTotoPayloadType = "application/vnd.in-toto+json";

    /// <summary>
    /// cosign 2: <paramref name="signature"/> (the base64 <c>dev.cosignproject.cosign/signature</c> annotation) signs
    /// the simple-signing <paramref name="payload"/>, whose <c>critical.image.docker-manifest-digest</c> must be
    /// <paramref name="subject"/>.
    /// </summary>
    public static TrustVerdict VerifySimpleSigning(ReadOnlySpan<byte> payload, string? signature, Digest subject, CosignKeySet keys)
    {
        if (!TryFromBase64(signature, out var signatureBytes))
        {
            return TrustVerdict.Invalid("cosign 2 signature layer has no base64 dev.cosignproject.cosign/signature annotation");
        }

        CosignKey? key = null;
        foreach (var candidate in keys.Keys)
        {
            if (candidate.VerifyData(payload, signatureBytes))
            {
                key = candidate;
                break;
            }
        }

        if (key is null)
        {
            return TrustVerdict.Invalid("cosign 2 signature does not verify with any configured key (signed by another key, or the payload was altered)");
        }

        if (!TryRead(payload, TrustJsonContext.Default.SimpleSigningPayload, out var parsed))
        {
            return TrustVerdict.Invalid("cosign 2 signed payload is not valid JSON");
        }

        if (parsed?.Critical?.Type != SimpleSigningType)
        {
            return TrustVerdict.Invalid($"cosign 2 signed payload has type '{parsed?.Critical?.Type}', not '{SimpleSigningType}'");
        }

        var named = parsed.Critical.Image?.DockerManifestDigest;
        return named == subject.ToString()
            ? TrustVerdict.Valid($"cosign 2 signature by {key.Description} key {key.Id}")
            : TrustVerdict.Invalid($"cosign 2 signature covers {Shown(named)}, not this manifest");
    }

    /// <summary>
    /// cosign 3: a Sigstore bundle whose DSSE envelope (an in-toto statement with the cosign signing predicate) or
    /// message signature is signed by one of the keys and names <paramref name="subject"/>.
    /// </summary>
    public static TrustVerdict VerifyBundle(ReadOnlySpan<byte> json, Digest subject, CosignKeySet keys)
    {
        if (!TryRead(json, TrustJsonContext.Default.SigstoreBundle, out var bundle))
        {
            return TrustVerdict.Invalid("Sigstore bundle is not valid JSON");
        }

        if (bundle?.DsseEnvelope is { } envelope)
        {
            return VerifyDsse(envelope, subject, keys);
        }

        if (bundle?.MessageSignature is { } message)
        {
            return VerifyMessageSignature(message, subject, keys);
        }

        return TrustVerdict.Invalid("Sigstore bundle holds neither a DSSE envelope nor a message signature");
    }

    private static TrustVerdict VerifyDsse(DsseEnvelope envelope, Digest subject, CosignKeySet keys)
    {
        if (envelope.Payload is not { } payload || envelope.PayloadType != InTotoPayloadType)
        {
            return TrustVerdict.Invalid($"DSSE envelope has payload type '{envelope.PayloadType}', not '{InTotoPayloadType}'");
        }

        // The signature covers the pre-authentication encoding, never the payload alone:
        // https://github.com/secure-systems-lab/dsse/blob/master/protocol.md
        var pae = PreAuthenticationEncoding(envelope.PayloadType, payload);
        var key = (envelope.Signatures ?? [])
            .Where(s => s.Sig is not null)
            .Select(s => keys.Keys.FirstOrDefault(k => k.VerifyData(pae, s.Sig)))
            .FirstOrDefault(k => k is not null);
        if (key is null)
        {
            return TrustVerdict.Invalid("cosign 3 signature does not verify with any configured key (signed by another key, or the statement was altered)");
        }

        if (!TryRead(payload, TrustJsonContext.Default.InTotoStatement, out var statement))
        {
            return TrustVerdict.Invalid("cosign 3 signed statement is not valid JSON");
        }

        if (statement?.Type?.StartsWith("https://in-toto.io/Statement/", StringComparison.Ordinal) != true)
        {
            return TrustVerdict.Invalid($"cosign 3 signed payload is not an in-toto statement ('{statement?.Type}')");
        }

        if (statement.PredicateType != CosignSignPredicate)
        {
            return TrustVerdict.Invalid($"cosign 3 statement is an attestation ('{statement.PredicateType}'), not a signature");
        }

        var named = (statement.Subject ?? []).Select(s => s.Digest?.GetValueOrDefault(subject.Algorithm)).ToList();
        return named.Contains(subject.Encoded, StringComparer.Ordinal)
            ? TrustVerdict.Valid($"cosign 3 signature by {key.Description} key {key.Id}")
            : TrustVerdict.Invalid($"cosign 3 signature covers {Shown(string.Join(", ", named.Select(n => $"{subject.Algorithm}:{n}")))}, not this manifest");
    }

    private static TrustVerdict VerifyMessageSignature(MessageSignature message, Digest subject, CosignKeySet keys)
    {
        if (message.MessageDigest is not { Algorithm: "SHA2_256", Digest: { Length: 32 } digest } || message.Signature is not { } signature || !subject.IsSha256)
        {
            return TrustVerdict.Invalid("message signature has no SHA2_256 digest or no signature");
        }

        var key = keys.Keys.FirstOrDefault(k => k.VerifySha256(digest, signature));
        if (key is null)
        {
            return TrustVerdict.Invalid("cosign 3 message signature does not verify with any configured key");
        }

        var named = Digest.Sha256(digest);
        return named == subject
            ? TrustVerdict.Valid($"cosign 3 message signature by {key.Description} key {key.Id}")
            : TrustVerdict.Invalid($"cosign 3 message signature covers {named}, not this manifest");
    }

    /// <summary>DSSE's PAE: <c>"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body</c>, lengths in ASCII decimal bytes.</summary>
    internal static byte[] PreAuthenticationEncoding(string payloadType, byte[] payload)
    {
        var type = Encoding.UTF8.GetBytes(payloadType);
        var header = Encoding.ASCII.GetBytes($"DSSEv1 {type.Length} ");
        var middle = Encoding.ASCII.GetBytes($" {payload.Length} ");
        return [.. header, .. type, .. middle, .. payload];
    }

    private static bool TryRead<T>(ReadOnlySpan<byte> json, JsonTypeInfo<T> type, out T? value)
    {
        try
        {
            value = JsonSerializer.Deserialize(json, type);
            return true;
        }
        catch (JsonException)
        {
            value = default;
            return false;
        }
    }

    private static bool TryFromBase64(string? text, out byte[] bytes)
    {
        bytes = [];
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var buffer = new byte[text.Length];
        if (!Convert.TryFromBase64String(text, buffer, out var written))
        {
            return false;
        }

        bytes = buffer[..written];
        return true;
    }

    // What a signature names comes from a publisher's registry: cut it short before it reaches a log line.
    private static string Shown(string? named) =>
        string.IsNullOrEmpty(named) ? "no digest" : named.Length > 200 ? named[..200] + "…" : named;
}
