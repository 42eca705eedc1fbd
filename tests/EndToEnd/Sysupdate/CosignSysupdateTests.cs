using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Sysupdate;

/// <summary>
/// One chain of trust, from the publisher's cosign key to the machine: the real cosign 3 and 2 sign some versions in
/// the real registry, the proxy lists only those and signs its SHA256SUMS with gpg, and the real systemd-sysupdate
/// 254 with <c>Verify=yes</c> sees and installs only what the publisher signed.
/// </summary>
[Collection(RegistryCollection.Name)]
public class CosignSysupdateTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);

    [Fact]
    public async Task VerifyYes_CosignKeys_SeesAndInstallsOnlyPublisherSignedVersions()
    {
        const string repository = "e2e/cosign/hello";
        var images = new Dictionary<string, byte[]>();
        var digests = new Dictionary<string, string>();
        foreach (var (version, seed) in new[] { ("v1", 1), ("v2", 2), ("v3", 3) })
        {
            images[version] = Payloads.Random(32 * 1024 + seed, 40 + seed);
            digests[version] = (await _pusher.PushOrasArtifactAsync(repository, version, $"hello-{version}.raw", images[version])).ManifestDigest;
        }

        using var publisher = await CosignKeyPair.GenerateAsync();
        await publisher.SignAsync(2, registry.Url, repository, digests["v1"]);
        await publisher.SignAsync(3, registry.Url, repository, digests["v2"]);
        await using var gpg = await GpgKey.CreateAsync();
        using var dir = new TempDirectory();
        var signingKey = dir.Combine("signing.asc");
        await File.WriteAllBytesAsync(signingKey, await gpg.ExportSecretAsync(armor: true));
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?>
        {
            ["Signing:KeyFile"] = signingKey,
            ["Signing:Passphrase"] = gpg.Passphrase,
            ["Trust:CosignKeys:0"] = publisher.PublicKey,
            ["Cache:ChecksumsTtl"] = "00:00:00",
            // Every listing asks afresh, also about tags found unsigned before (by default for two minutes).
            ["Trust:UnsignedRecheck"] = "00:00:00",
            ["Proxy:BlobDelivery"] = "stream",
        });
        var target = dir.CreateDirectory("opt", "extensions", "hello");
        var definitions = await new Transfer("hello",
            TransferResource.UrlFile(proxy.Url, repository, "hello-@v.raw"),
            TransferResource.RegularFile(target, "hello-@v.raw"))
        {
            Verify = true,
            InstancesMax = 3,
        }.WriteAsync(dir);

        var listed = await SysupdateTool.ListAsync(definitions, gpg.KeyringPath);
        var update = await SysupdateTool.RunWithKeyringAsync(definitions, gpg.KeyringPath, "update");

        Assert.Equal(["v1", "v2"], listed.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("candidate", listed["v2"]);
        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Contains("Signature verification succeeded", update.Stderr, StringComparison.Ordinal);
        Assert.Equal(["hello-v2.raw"], Directory.GetFiles(target).Select(Path.GetFileName));
        Assert.Equal(images["v2"], await File.ReadAllBytesAsync(Path.Combine(target, "hello-v2.raw")));

        // The publisher signs v3 later: the next listing offers it, and sysupdate installs it.
        await publisher.SignAsync(3, registry.Url, repository, digests["v3"]);
        var relisted = await SysupdateTool.ListAsync(definitions, gpg.KeyringPath);
        var second = await SysupdateTool.RunWithKeyringAsync(definitions, gpg.KeyringPath, "update");

        Assert.Equal("candidate", relisted["v3"]);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(images["v3"], await File.ReadAllBytesAsync(Path.Combine(target, "hello-v3.raw")));
    }
}
