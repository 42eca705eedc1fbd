using System.Security.Cryptography;
using SysextFunctions.Tests.Support;
using SysextFunctions.Trust;

namespace SysextFunctions.Tests.Unit.Service.Trust;

/// <summary>Reading <c>Trust:CosignKeys</c>: what is a usable public key, and what stops the start with which message.</summary>
public class CosignKeySetTests
{
    [Fact]
    public void Load_NoEntries_Null()
    {
        Assert.Null(CosignKeySet.Load(null, "Trust:CosignKeys"));
        Assert.Null(CosignKeySet.Load(["", "  "], "Trust:CosignKeys"));
    }

    [Fact]
    public void Load_PemTextAndFile_SameKeyOnce()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var dir = new TempDirectory();
        var file = dir.Combine("cosign.pub");
        File.WriteAllText(file, key.ExportSubjectPublicKeyInfoPem());

        var set = CosignKeySet.Load([key.ExportSubjectPublicKeyInfoPem(), file], "Trust:CosignKeys")!;

        var only = Assert.Single(set.Keys);
        Assert.Equal("ECDSA P-256", only.Description);
        Assert.Equal(Convert.ToBase64String(SHA256.HashData(key.ExportSubjectPublicKeyInfo())), only.Id);
    }

    [Fact]
    public void Load_PemOnOneLine_Read()
    {
        // An app setting often cannot hold line breaks.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var set = CosignKeySet.Load([key.ExportSubjectPublicKeyInfoPem().ReplaceLineEndings(" ")], "Trust:CosignKeys");

        Assert.NotNull(set);
    }

    [Fact]
    public void Id_SameKeysInAnyOrder_Same()
    {
        using var a = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var b = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        var ab = CosignKeySet.Load([a.ExportSubjectPublicKeyInfoPem(), b.ExportSubjectPublicKeyInfoPem()], "x")!;
        var ba = CosignKeySet.Load([b.ExportSubjectPublicKeyInfoPem(), a.ExportSubjectPublicKeyInfoPem()], "x")!;
        var onlyA = CosignKeySet.Load([a.ExportSubjectPublicKeyInfoPem()], "x")!;

        Assert.Equal(ab.Id, ba.Id);
        Assert.NotEqual(ab.Id, onlyA.Id);
    }

    [Fact]
    public void Load_PrivateKey_RefusedNamingTheSetting()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var e = Assert.Throws<InvalidOperationException>(() => CosignKeySet.Load(["", key.ExportPkcs8PrivateKeyPem()], "Trust:CosignKeys"));

        Assert.StartsWith("Trust:CosignKeys:1: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("private key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Certificate_RefusedAsKeyless()
    {
        const string certificate = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

        var e = Assert.Throws<InvalidOperationException>(() => CosignKeySet.Load([certificate], "Trust:CosignKeys"));

        Assert.Contains("keyless", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/nonexistent/cosign.pub", "cannot read key file '/nonexistent/cosign.pub'")]
    [InlineData("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not an ECDSA or RSA public key")]
    [InlineData("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n", "no PEM public key")]
    public void Load_Unusable_RefusedWithReason(string entry, string reason)
    {
        var e = Assert.Throws<InvalidOperationException>(() => CosignKeySet.Load([entry], "Mappings:2:CosignKeys"));

        Assert.StartsWith("Mappings:2:CosignKeys:0: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FileWithoutPem_Refused()
    {
        using var dir = new TempDirectory();
        var file = dir.Combine("cosign.pub");
        File.WriteAllText(file, "just text");

        var e = Assert.Throws<InvalidOperationException>(() => CosignKeySet.Load([file], "Trust:CosignKeys"));

        Assert.Contains("holds no PEM public key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SmallRsaKey_Refused()
    {
        using var rsa = RSA.Create(1024);

        var e = Assert.Throws<InvalidOperationException>(() => CosignKeySet.Load([rsa.ExportSubjectPublicKeyInfoPem()], "Trust:CosignKeys"));

        Assert.Contains("too small", e.Message, StringComparison.Ordinal);
    }
}
