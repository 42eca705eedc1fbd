using System.Text;
using SysextFunctions.Sysupdate;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Sysupdate;

/// <summary>Signatures made with BouncyCastle, checked by the real gpg the way systemd-pull runs it.</summary>
public class ChecksumsSignerTests
{
    private static readonly byte[] List = Encoding.ASCII.GetBytes(new string('a', 64) + "  hello-v1.raw\n");

    [Theory]
    [InlineData("rsa2048", null, true)]
    [InlineData("rsa2048", "correct horse", false)]
    [InlineData("ed25519", null, false)]
    [InlineData("ed25519", "correct horse", true)]
    public async Task Sign_GpgKey_GpgVerifiesBinaryAndArmored(string algorithm, string? passphrase, bool armoredKey)
    {
        await using var key = await GpgKey.CreateAsync(algorithm, passphrase);
        var signer = ChecksumsSigner.Load(await key.ExportSecretAsync(armoredKey), passphrase);

        var signature = signer.Sign(List)!;

        var binary = await GpgKey.VerifyAsync(key.KeyringPath, signature, List);
        var armored = await GpgKey.VerifyAsync(key.KeyringPath, ChecksumsSigner.Armor(signature), List);
        Assert.True(binary.ExitCode == 0, binary.Stderr);
        Assert.True(armored.ExitCode == 0, armored.Stderr);
        Assert.StartsWith("-----BEGIN PGP SIGNATURE-----", Encoding.ASCII.GetString(ChecksumsSigner.Armor(signature)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_OtherContentOrOtherKey_GpgRefuses()
    {
        await using var key = await GpgKey.CreateAsync();
        await using var other = await GpgKey.CreateAsync();
        var signature = ChecksumsSigner.Load(await key.ExportSecretAsync(armor: false), null).Sign(List)!;
        var tampered = (byte[])List.Clone();
        tampered[0] = (byte)'b';

        Assert.NotEqual(0, (await GpgKey.VerifyAsync(key.KeyringPath, signature, tampered)).ExitCode);
        Assert.NotEqual(0, (await GpgKey.VerifyAsync(other.KeyringPath, signature, List)).ExitCode);
    }

    [Fact]
    public async Task Load_WrongPassphrase_ThrowsWithoutEchoingIt()
    {
        await using var key = await GpgKey.CreateAsync(passphrase: "right one");
        var secret = await key.ExportSecretAsync(armor: true);

        var e = Assert.Throws<InvalidOperationException>(() => ChecksumsSigner.Load(secret, "wrong one"));

        Assert.Contains("Signing:Passphrase", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong one", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Snapshot_WithSigner_SignatureVerifiesAgainstItsOwnList()
    {
        await using var key = await GpgKey.CreateAsync();
        var signer = ChecksumsSigner.Load(await key.ExportSecretAsync(armor: false), null);
        var files = new[] { new SysextFile("hello-v1.raw", "v1", SysextFunctions.Registry.Content.Digest.Parse("sha256:" + new string('c', 64)), 3) };

        var snapshot = RepositorySnapshot.Create(files, signer, DateTimeOffset.UnixEpoch);

        var run = await GpgKey.VerifyAsync(key.KeyringPath, snapshot.Signature!, snapshot.Checksums);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Null(RepositorySnapshot.Create(files, ChecksumsSigner.None, DateTimeOffset.UnixEpoch).Signature);
    }

    [Fact]
    public void Load_NotAKey_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => ChecksumsSigner.Load("not a key"u8.ToArray(), null));
    }

    [Fact]
    public async Task CreateSigner_KeySettingArmoredOrBase64_WinsOverKeyFile()
    {
        await using var key = await GpgKey.CreateAsync();
        var armored = Encoding.ASCII.GetString(await key.ExportSecretAsync(armor: true));
        var base64 = Convert.ToBase64String(await key.ExportSecretAsync(armor: false));

        var fromArmored = new SigningOptions { Key = armored, KeyFile = "/nonexistent" }.CreateSigner();
        var fromBase64 = new SigningOptions { Key = base64 }.CreateSigner();

        Assert.True(fromArmored.IsEnabled);
        Assert.Equal(fromArmored.KeyId, fromBase64.KeyId);
        Assert.False(new SigningOptions().CreateSigner().IsEnabled);
        Assert.Null(ChecksumsSigner.None.Sign(List));
    }

    [Theory]
    [InlineData("7.00:00:00", "2026-12-06")]
    [InlineData("00:30:00", "2026-11-30")]
    [InlineData("-1.00:00:00", "2026-11-28")]
    public async Task Snapshot_BestBefore_SignedListStartsWithMarkerDatedAheadInUtc(string bestBefore, string date)
    {
        await using var key = await GpgKey.CreateAsync();
        // 23:45 UTC: half an hour ahead is already the next day in UTC.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 23, 45, 0, TimeSpan.Zero));
        var options = new SigningOptions { Key = Convert.ToBase64String(await key.ExportSecretAsync(armor: false)), BestBefore = TimeSpan.Parse(bestBefore, System.Globalization.CultureInfo.InvariantCulture) };
        var files = new[] { new SysextFile("hello-v1.raw", "v1", SysextFunctions.Registry.Content.Digest.Parse("sha256:" + new string('c', 64)), 3) };

        var snapshot = RepositorySnapshot.Create(files, options.CreateSigner(), time.GetUtcNow());

        var text = Encoding.ASCII.GetString(snapshot.Checksums);
        Assert.StartsWith($"{Checksums.EmptySha256} *BEST-BEFORE-{date}\n", text, StringComparison.Ordinal);
        Assert.EndsWith("  hello-v1.raw\n", text, StringComparison.Ordinal);
        var run = await GpgKey.VerifyAsync(key.KeyringPath, snapshot.Signature!, snapshot.Checksums);
        Assert.True(run.ExitCode == 0, run.Stderr);
    }

    [Fact]
    public async Task Snapshot_NoBestBefore_NoMarker()
    {
        await using var key = await GpgKey.CreateAsync();
        var signer = new SigningOptions { Key = Convert.ToBase64String(await key.ExportSecretAsync(armor: false)) }.CreateSigner();
        var files = new[] { new SysextFile("hello-v1.raw", "v1", SysextFunctions.Registry.Content.Digest.Parse("sha256:" + new string('c', 64)), 3) };

        var snapshot = RepositorySnapshot.Create(files, signer, DateTimeOffset.UnixEpoch);

        Assert.DoesNotContain("BEST-BEFORE", Encoding.ASCII.GetString(snapshot.Checksums), StringComparison.Ordinal);
    }

    [Fact]
    public void CreateSigner_BestBeforeWithoutKey_Throws()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new SigningOptions { BestBefore = TimeSpan.FromDays(7) }.CreateSigner());

        Assert.Contains("Signing:BestBefore", e.Message, StringComparison.Ordinal);
    }
}
