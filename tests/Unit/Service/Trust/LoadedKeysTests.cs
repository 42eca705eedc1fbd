using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SysextFunctions.Hosting;
using SysextFunctions.Sysupdate;
using SysextFunctions.Tests.Support;
using SysextFunctions.Tests.Unit.Service.Rollouts;
using SysextFunctions.Trust;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Tests.Unit.Service.Trust;

/// <summary>
/// The signing key and the cosign keys are loaded once per host, by the start-up check, and disposed with the host:
/// the whole composition (<c>AddSysextProxy</c>), over key files in a temp directory.
/// </summary>
public sealed class LoadedKeysTests : IDisposable
{
    private readonly TempDirectory _dir = new("sysext-keys-");
    private readonly ECDsa _publisher = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _toolsPublisher = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose()
    {
        _publisher.Dispose();
        _toolsPublisher.Dispose();
        _dir.Dispose();
    }

    /// <summary>Key files for Signing:KeyFile, Trust:CosignKeys and one mapping's CosignKeys, and the host that uses them.</summary>
    private ServiceProvider Host()
    {
        File.WriteAllBytes(_dir.Combine("signing.key"), RolloutServiceTests.SecretKey());
        File.WriteAllText(_dir.Combine("cosign.pub"), _publisher.ExportSubjectPublicKeyInfoPem());
        File.WriteAllText(_dir.Combine("tools.pub"), _toolsPublisher.ExportSubjectPublicKeyInfoPem());
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Registry:Layout"] = _dir.Path,
            ["Signing:KeyFile"] = _dir.Combine("signing.key"),
            ["Trust:CosignKeys:0"] = _dir.Combine("cosign.pub"),
            ["Mappings:0:Path"] = "tools/*",
            ["Mappings:0:Repository"] = "sysexts/tools/*",
            ["Mappings:0:CosignKeys:0"] = _dir.Combine("tools.pub"),
            ["Mappings:1:Path"] = "*",
            ["Mappings:1:Repository"] = "sysexts/*",
        }).Build();
        return new ServiceCollection().AddLogging().AddSysextProxy(configuration).BuildServiceProvider();
    }

    private void DeleteKeyFiles()
    {
        foreach (var name in (string[])["signing.key", "cosign.pub", "tools.pub"])
        {
            File.Delete(_dir.Combine(name));
        }
    }

    /// <summary>
    /// The key files are gone once the start-up check has passed: whatever signs or verifies must be using what that
    /// check read. (Before, each was read again for use, and IOptions' own validation read them a third time.)
    /// </summary>
    [Fact]
    public void StartupCheck_KeysLoaded_UsedWithoutReadingTheFilesAgain()
    {
        using var host = Host();
        Assert.Empty(StartupCheck.Failures(host));
        DeleteKeyFiles();

        var signer = host.GetRequiredService<ChecksumsSigner>();
        var upstreams = host.GetRequiredService<UpstreamResolver>();

        Assert.True(signer.IsEnabled);
        Assert.NotNull(signer.Sign("list"u8.ToArray()));
        Assert.Equal(Id(_toolsPublisher), Assert.Single(upstreams.Resolve("tools/kubectl")!.CosignKeys!.Keys).Id);
        Assert.Equal(Id(_publisher), Assert.Single(upstreams.Resolve("hello")!.CosignKeys!.Keys).Id);
        // Asked again (a fresh options object, validated afresh), the same objects: nothing loaded twice.
        var keys = host.GetRequiredService<LoadedKeys>();
        Assert.Same(signer, host.GetRequiredService<IOptionsMonitor<SigningOptions>>().CurrentValue.LoadSigner(keys));
        Assert.Same(upstreams.Resolve("hello")!.CosignKeys, new TrustOptions { CosignKeys = [_dir.Combine("cosign.pub")] }.LoadKeys(keys));
    }

    [Fact]
    public void Dispose_Host_DisposesTheKeysItLoaded()
    {
        var host = Host();
        Assert.Empty(StartupCheck.Failures(host));
        var signer = host.GetRequiredService<ChecksumsSigner>();
        var upstreams = host.GetRequiredService<UpstreamResolver>();
        var trusted = Assert.Single(upstreams.Resolve("hello")!.CosignKeys!.Keys);
        var tools = Assert.Single(upstreams.Resolve("tools/kubectl")!.CosignKeys!.Keys);
        var data = "payload"u8.ToArray();
        Assert.True(trusted.VerifyData(data, _publisher.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)));

        host.Dispose();

        Assert.Throws<ObjectDisposedException>(() => signer.Sign(data));
        Assert.Throws<ObjectDisposedException>(() => trusted.VerifyData(data, _publisher.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)));
        Assert.Throws<ObjectDisposedException>(() => tools.VerifyData(data, _toolsPublisher.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)));
    }

    /// <summary>A key that cannot be used is refused by the start-up check with the setting's name, and not loaded again.</summary>
    [Fact]
    public void Load_Failure_RememberedNotRetried()
    {
        using var keys = new LoadedKeys();
        var loads = 0;
        ChecksumsSigner Broken() => throw new InvalidOperationException($"Signing:KeyFile is broken (load {++loads})");

        var first = Assert.Throws<InvalidOperationException>(() => keys.Load(("Signing", "a"), Broken));
        var second = Assert.Throws<InvalidOperationException>(() => keys.Load(("Signing", string.Concat("", "a")), Broken));

        Assert.Equal(1, loads);
        Assert.Same(first, second);
    }

    [Fact]
    public void Load_EqualSettings_LoadedOnceOtherSettingsApart()
    {
        using var keys = new LoadedKeys();
        var loads = 0;
        CosignKeySet? Load() { loads++; return CosignKeySet.Load([_publisher.ExportSubjectPublicKeyInfoPem()], "x"); }

        var first = keys.Load(("Trust:CosignKeys", "pem"), Load);
        var again = keys.Load(("Trust:CosignKeys", new string("pem".ToCharArray())), Load);
        var other = keys.Load(("Mappings:0:CosignKeys", "pem"), Load);

        Assert.Same(first, again);
        Assert.NotSame(first, other);
        Assert.Equal(2, loads);
    }

    [Fact]
    public void Load_AfterDispose_Refused()
    {
        var keys = new LoadedKeys();
        keys.Dispose();

        Assert.Throws<ObjectDisposedException>(() => keys.Load("x", () => ChecksumsSigner.None));
    }

    private static string Id(ECDsa key) => Convert.ToBase64String(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
}
