using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using SysextFunctions.Registry.Content;
using SysextFunctions.Trust;

namespace SysextFunctions.Tests.Unit.Service.Trust;

/// <summary>
/// The verifier on crafted inputs, signed with keys made here: each part of a signature that an attacker could
/// change (the key, the signed bytes, what they name, their kind) is changed once.
/// </summary>
public class CosignSignaturesTests
{
    private static readonly Digest Subject = Digest.Sha256(SHA256.HashData("the manifest"u8));
    private static readonly Digest Other = Digest.Sha256(SHA256.HashData("another manifest"u8));

    private readonly ECDsa _publisher = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private CosignKeySet Keys => CosignKeySet.Load([_publisher.ExportSubjectPublicKeyInfoPem()], "test")!;

    [Fact]
    public void VerifyBundle_DsseSignedByKey_Verified()
    {
        var verdict = CosignSignatures.VerifyBundle(DsseBundle(_publisher, Statement(Subject)), Subject, Keys);

        Assert.True(verdict.Verified, verdict.Reason);
        Assert.Contains("cosign 3 signature by ECDSA P-256", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyBundle_DsseSignedByOtherKey_Refused()
    {
        var verdict = CosignSignatures.VerifyBundle(DsseBundle(_stranger, Statement(Subject)), Subject, Keys);

        Assert.False(verdict.Verified);
        Assert.Contains("does not verify with any configured key", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyBundle_DsseNamesOtherDigest_Refused()
    {
        var verdict = CosignSignatures.VerifyBundle(DsseBundle(_publisher, Statement(Other)), Subject, Keys);

        Assert.False(verdict.Verified);
        Assert.Contains($"covers {Other}, not this manifest", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyBundle_DssePayloadChangedAfterSigning_Refused()
    {
        var bundle = JsonNode.Parse(DsseBundle(_publisher, Statement(Other)))!;
        bundle["dsseEnvelope"]!["payload"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(Statement(Subject)));

        var verdict = CosignSignatures.VerifyBundle(Encoding.UTF8.GetBytes(bundle.ToJsonString()), Subject, Keys);

        Assert.False(verdict.Verified);
        Assert.Contains("does not verify", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyBundle_SignatureOverPayloadNotPae_Refused()
    {
        // DSSE signs the pre-authentication encoding; a signature of the bare payload must not pass.
        var statement = Encoding.UTF8.GetBytes(Statement(Subject));
        var bundle = Bundle(new JsonObject
        {
            ["dsseEnvelope"] = new JsonObject
            {
                ["payload"] = Convert.ToBase64String(statement),
                ["payloadType"] = CosignSignatures.InTotoPayloadType,
                ["signatures"] = new JsonArray(new JsonObject { ["sig"] = Convert.ToBase64String(Sign(_publisher, statement)) }),
            },
        });

        Assert.False(CosignSignatures.VerifyBundle(bundle, Subject, Keys).Verified);
    }

    [Fact]
    public void VerifyBundle_Attestation_Refused()
    {
        var verdict = CosignSignatures.VerifyBundle(DsseBundle(_publisher, Statement(Subject, "https://slsa.dev/provenance/v1")), Subject, Keys);

        Assert.False(verdict.Verified);
        Assert.Contains("attestation", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyBundle_OtherPayloadType_Refused()
    {
        var verdict = CosignSignatures.VerifyBundle(DsseBundle(_publisher, Statement(Subject), "text/plain"), Subject, Keys);

        Assert.False(verdict.Verified);
        Assert.Contains("payload type", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyBundle_SecondKeyOfTheSetSigned_Verified()
    {
        var keys = CosignKeySet.Load([_stranger.ExportSubjectPublicKeyInfoPem(), _publisher.ExportSubjectPublicKeyInfoPem()], "test")!;

        Assert.True(CosignSignatures.VerifyBundle(DsseBundle(_publisher, Statement(Subject)), Subject, keys).Verified);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("""{"dsseEnvelope":{"payload":"not base64!","payloadType":"application/vnd.in-toto+json"}}""")]
    [InlineData("""{"dsseEnvelope":{"payloadType":"application/vnd.in-toto+json","signatures":[]}}""")]
    public void VerifyBundle_Malformed_RefusedWithoutThrowing(string json)
    {
        Assert.False(CosignSignatures.VerifyBundle(Encoding.UTF8.GetBytes(json), Subject, Keys).Verified);
    }

    [Fact]
    public void VerifyBundle_MessageSignature_VerifiedOnlyForItsDigest()
    {
        var hash = Convert.FromHexString(Subject.Encoded);
        var bundle = Bundle(new JsonObject
        {
            ["messageSignature"] = new JsonObject
            {
                ["messageDigest"] = new JsonObject { ["algorithm"] = "SHA2_256", ["digest"] = Convert.ToBase64String(hash) },
                ["signature"] = Convert.ToBase64String(_publisher.SignHash(hash, DSASignatureFormat.Rfc3279DerSequence)),
            },
        });

        Assert.True(CosignSignatures.VerifyBundle(bundle, Subject, Keys).Verified);
        Assert.Contains($"covers {Subject}", CosignSignatures.VerifyBundle(bundle, Other, Keys).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifySimpleSigning_SignedByKey_Verified()
    {
        var payload = SimpleSigning(Subject);

        var verdict = CosignSignatures.VerifySimpleSigning(payload, Convert.ToBase64String(Sign(_publisher, payload)), Subject, Keys);

        Assert.True(verdict.Verified, verdict.Reason);
    }

    [Fact]
    public void VerifySimpleSigning_NamesOtherDigest_Refused()
    {
        var payload = SimpleSigning(Other);

        var verdict = CosignSignatures.VerifySimpleSigning(payload, Convert.ToBase64String(Sign(_publisher, payload)), Subject, Keys);

        Assert.False(verdict.Verified);
        Assert.Contains($"covers {Other}, not this manifest", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifySimpleSigning_PayloadChangedAfterSigning_Refused()
    {
        var signature = Convert.ToBase64String(Sign(_publisher, SimpleSigning(Other)));

        var verdict = CosignSignatures.VerifySimpleSigning(SimpleSigning(Subject), signature, Subject, Keys);

        Assert.False(verdict.Verified);
        Assert.Contains("does not verify with any configured key", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifySimpleSigning_OtherKey_Refused()
    {
        var payload = SimpleSigning(Subject);

        Assert.False(CosignSignatures.VerifySimpleSigning(payload, Convert.ToBase64String(Sign(_stranger, payload)), Subject, Keys).Verified);
    }

    [Fact]
    public void VerifySimpleSigning_OtherType_Refused()
    {
        var payload = SimpleSigning(Subject, "atomic container signature");

        var verdict = CosignSignatures.VerifySimpleSigning(payload, Convert.ToBase64String(Sign(_publisher, payload)), Subject, Keys);

        Assert.False(verdict.Verified);
        Assert.Contains("type", verdict.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("%%%")]
    [InlineData("AAAA")]
    public void VerifySimpleSigning_NoUsableSignature_Refused(string? signature)
    {
        Assert.False(CosignSignatures.VerifySimpleSigning(SimpleSigning(Subject), signature, Subject, Keys).Verified);
    }

    [Fact]
    public void VerifySimpleSigning_RsaKey_Verified()
    {
        using var rsa = RSA.Create(2048);
        var keys = CosignKeySet.Load([rsa.ExportSubjectPublicKeyInfoPem()], "test")!;
        var payload = SimpleSigning(Subject);

        var signature = rsa.SignData(payload, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        Assert.True(CosignSignatures.VerifySimpleSigning(payload, Convert.ToBase64String(signature), Subject, keys).Verified);
    }

    [Fact]
    public void PreAuthenticationEncoding_MatchesTheDsseExample()
    {
        // The worked example of https://github.com/secure-systems-lab/dsse/blob/master/protocol.md
        var pae = CosignSignatures.PreAuthenticationEncoding("http://example.com/HelloWorld", "hello world"u8.ToArray());

        Assert.Equal("DSSEv1 29 http://example.com/HelloWorld 11 hello world", Encoding.UTF8.GetString(pae));
    }

    private static byte[] Sign(ECDsa key, byte[] data) => key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    private static string Statement(Digest digest, string predicateType = CosignSignatures.CosignSignPredicate) => new JsonObject
    {
        ["_type"] = "https://in-toto.io/Statement/v1",
        ["subject"] = new JsonArray(new JsonObject { ["digest"] = new JsonObject { ["sha256"] = digest.Encoded }, ["annotations"] = new JsonObject() }),
        ["predicateType"] = predicateType,
        ["predicate"] = new JsonObject(),
    }.ToJsonString();

    private static byte[] DsseBundle(ECDsa key, string statement, string payloadType = CosignSignatures.InTotoPayloadType)
    {
        var payload = Encoding.UTF8.GetBytes(statement);
        return Bundle(new JsonObject
        {
            ["dsseEnvelope"] = new JsonObject
            {
                ["payload"] = Convert.ToBase64String(payload),
                ["payloadType"] = payloadType,
                ["signatures"] = new JsonArray(new JsonObject { ["sig"] = Convert.ToBase64String(Sign(key, CosignSignatures.PreAuthenticationEncoding(payloadType, payload))) }),
            },
        });
    }

    private static byte[] Bundle(JsonObject content)
    {
        content["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.3+json";
        content["verificationMaterial"] = new JsonObject { ["publicKey"] = new JsonObject { ["hint"] = "ignored" } };
        return Encoding.UTF8.GetBytes(content.ToJsonString());
    }

    private static byte[] SimpleSigning(Digest digest, string type = CosignSignatures.SimpleSigningType) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["critical"] = new JsonObject
        {
            ["identity"] = new JsonObject { ["docker-reference"] = "registry.test/hello" },
            ["image"] = new JsonObject { ["docker-manifest-digest"] = digest.ToString() },
            ["type"] = type,
        },
        ["optional"] = null,
    }.ToJsonString());
}
