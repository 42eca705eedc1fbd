using System.Text.Json.Serialization;

namespace SysextFunctions.Trust;

/// <summary>
/// A Sigstore bundle in its protobuf JSON form, as cosign 3 attaches it to an image:
/// https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_bundle.proto. Only what a key-based check
/// reads; transparency log entries and certificates in <c>verificationMaterial</c> are not looked at.
/// </summary>
internal sealed record SigstoreBundle
{
    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; }

    [JsonPropertyName("dsseEnvelope")]
    public DsseEnvelope? DsseEnvelope { get; init; }

    [JsonPropertyName("messageSignature")]
    public MessageSignature? MessageSignature { get; init; }
}

/// <summary>A DSSE envelope: https://github.com/secure-systems-lab/dsse/blob/master/envelope.md</summary>
internal sealed record DsseEnvelope
{
    [JsonPropertyName("payload")]
    public byte[]? Payload { get; init; }

    [JsonPropertyName("payloadType")]
    public string? PayloadType { get; init; }

    [JsonPropertyName("signatures")]
    public List<DsseSignature>? Signatures { get; init; }
}

internal sealed record DsseSignature
{
    [JsonPropertyName("sig")]
    public byte[]? Sig { get; init; }

    [JsonPropertyName("keyid")]
    public string? KeyId { get; init; }
}

/// <summary>A signature over an artifact's digest (sigstore_common.proto <c>MessageSignature</c>).</summary>
internal sealed record MessageSignature
{
    [JsonPropertyName("messageDigest")]
    public HashOutput? MessageDigest { get; init; }

    [JsonPropertyName("signature")]
    public byte[]? Signature { get; init; }
}

internal sealed record HashOutput
{
    [JsonPropertyName("algorithm")]
    public string? Algorithm { get; init; }

    [JsonPropertyName("digest")]
    public byte[]? Digest { get; init; }
}

/// <summary>An in-toto statement: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md</summary>
internal sealed record InTotoStatement
{
    [JsonPropertyName("_type")]
    public string? Type { get; init; }

    [JsonPropertyName("subject")]
    public List<InTotoSubject>? Subject { get; init; }

    [JsonPropertyName("predicateType")]
    public string? PredicateType { get; init; }
}

internal sealed record InTotoSubject
{
    [JsonPropertyName("name")]
    public string? Name { get; init; }

    [JsonPropertyName("digest")]
    public Dictionary<string, string>? Digest { get; init; }
}

/// <summary>
/// cosign's simple-signing payload (the layer of a <c>sha256-&lt;hex&gt;.sig</c> manifest), after the
/// containers/image "atomic container signature" format: https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md
/// </summary>
internal sealed record SimpleSigningPayload
{
    [JsonPropertyName("critical")]
    public SimpleSigningCritical? Critical { get; init; }
}

internal sealed record SimpleSigningCritical
{
    [JsonPropertyName("type")]
    public string? Type { get; init; }

    [JsonPropertyName("image")]
    public SimpleSigningImage? Image { get; init; }
}

internal sealed record SimpleSigningImage
{
    [JsonPropertyName("docker-manifest-digest")]
    public string? DockerManifestDigest { get; init; }
}

[JsonSerializable(typeof(SigstoreBundle))]
[JsonSerializable(typeof(InTotoStatement))]
[JsonSerializable(typeof(SimpleSigningPayload))]
internal sealed partial class TrustJsonContext : JsonSerializerContext;
