using System.Net;
using System.Text;
using SysextFunctions.Tests.Infrastructure;

namespace SysextFunctions.Tests.EndToEnd;

/// <summary>
/// <c>Verify=yes</c> with the real systemd-sysupdate 254, systemd-pull and gpg: the SHA256SUMS we serve is signed
/// with a key made by gpg, and sysupdate checks it against a keyring at /etc/systemd/import-pubring.gpg inside a
/// private mount namespace.
/// </summary>
[Collection(RegistryCollection.Name)]
public class SignedSysupdateTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);

    [Fact]
    public async Task VerifyYes_RightKey_ListsAndUpdates()
    {
        var (images, repository) = await PushAsync("right");
        await using var key = await GpgKey.CreateAsync();
        using var dir = new TempDirectory();
        await using var proxy = await StartSignedProxyAsync(key, dir);
        var (definitions, target) = await DefinitionsAsync(dir, proxy.Url, repository);

        var listed = await SysupdateTool.ListAsync(definitions, key.KeyringPath);
        var update = await SysupdateTool.RunWithKeyringAsync(definitions, key.KeyringPath, "update");

        Assert.Equal("candidate", listed["v2"]);
        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Contains("Signature verification succeeded", update.Stderr, StringComparison.Ordinal);
        Assert.Equal(images["v2"], await File.ReadAllBytesAsync(Path.Combine(target, "hello-v2.raw")));
    }

    [Fact]
    public async Task VerifyYes_WrongKey_Refuses()
    {
        var (_, repository) = await PushAsync("wrong");
        await using var key = await GpgKey.CreateAsync();
        await using var other = await GpgKey.CreateAsync();
        using var dir = new TempDirectory();
        await using var proxy = await StartSignedProxyAsync(key, dir);
        var (definitions, target) = await DefinitionsAsync(dir, proxy.Url, repository);

        var list = await SysupdateTool.RunWithKeyringAsync(definitions, other.KeyringPath, "list");
        var update = await SysupdateTool.RunWithKeyringAsync(definitions, other.KeyringPath, "update");

        Assert.True(list.ExitCode != 0, list.ToString());
        Assert.True(update.ExitCode != 0, update.ToString());
        Assert.Contains("Signature verification failed", update.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(target));
    }

    [Fact]
    public async Task VerifyYes_NoKeyConfigured_RefusesAfterProbing404()
    {
        var (_, repository) = await PushAsync("unsigned");
        await using var key = await GpgKey.CreateAsync();
        using var dir = new TempDirectory();
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        await using var relay = await FaultProxy.StartAsync(proxy.Url);
        var (definitions, target) = await DefinitionsAsync(dir, relay.Url, repository);

        var update = await SysupdateTool.RunWithKeyringAsync(definitions, key.KeyringPath, "update");

        Assert.True(update.ExitCode != 0, update.ToString());
        Assert.Empty(Directory.GetFiles(target));
        Assert.Contains(relay.Requests, r => r.EndsWith("/SHA256SUMS.gpg", StringComparison.Ordinal));
    }

    [Fact]
    public async Task VerifyYes_ListTamperedOnTheWay_Refuses()
    {
        var (_, repository) = await PushAsync("tampered");
        await using var key = await GpgKey.CreateAsync();
        using var dir = new TempDirectory();
        await using var proxy = await StartSignedProxyAsync(key, dir);
        // Between sysupdate and us: the list still parses, but one digest digit differs from what was signed.
        await using var relay = await FaultProxy.StartAsync(proxy.Url);
        relay.Applies = target => target.EndsWith("/SHA256SUMS", StringComparison.Ordinal);
        relay.Rewrite = body =>
        {
            var copy = (byte[])body.Clone();
            copy[0] = copy[0] == (byte)'0' ? (byte)'1' : (byte)'0';
            return copy;
        };
        var (definitions, target) = await DefinitionsAsync(dir, relay.Url, repository);

        var update = await SysupdateTool.RunWithKeyringAsync(definitions, key.KeyringPath, "update");

        Assert.True(update.ExitCode != 0, update.ToString());
        Assert.Contains("Signature verification failed", update.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(target));
        Assert.Contains(relay.Requests, r => r.EndsWith("/SHA256SUMS.gpg", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SignatureNames_WithKey_GpgAndAscServedPerFileNames404()
    {
        var (_, repository) = await PushAsync("names");
        await using var key = await GpgKey.CreateAsync("ed25519");
        using var dir = new TempDirectory();
        await using var proxy = await StartSignedProxyAsync(key, dir, armoredKey: false);
        using var client = proxy.CreateClient();

        var list = await client.GetByteArrayAsync($"/{repository}/SHA256SUMS");
        using var gpg = await client.GetAsync($"/{repository}/SHA256SUMS.gpg");
        using var asc = await client.GetAsync($"/{repository}/SHA256SUMS.asc");
        using var perFileAsc = await client.GetAsync($"/{repository}/SHA256SUMS.sha256.asc");
        using var perFileGpg = await client.GetAsync($"/{repository}/SHA256SUMS.sha256.gpg");

        Assert.Equal(HttpStatusCode.OK, gpg.StatusCode);
        Assert.Equal(HttpStatusCode.OK, asc.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, perFileAsc.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, perFileGpg.StatusCode);
        var binary = await GpgKey.VerifyAsync(key.KeyringPath, await gpg.Content.ReadAsByteArrayAsync(), list);
        var armored = await GpgKey.VerifyAsync(key.KeyringPath, await asc.Content.ReadAsByteArrayAsync(), list);
        Assert.True(binary.ExitCode == 0, binary.Stderr);
        Assert.True(armored.ExitCode == 0, armored.Stderr);
        Assert.StartsWith("-----BEGIN PGP SIGNATURE-----", Encoding.ASCII.GetString(await asc.Content.ReadAsByteArrayAsync()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WrongPassphrase_FailsToStart()
    {
        await using var key = await GpgKey.CreateAsync(passphrase: "right");
        using var dir = new TempDirectory();
        var keyFile = dir.Combine("key.asc");
        await File.WriteAllBytesAsync(keyFile, await key.ExportSecretAsync(armor: true));

        var e = await Assert.ThrowsAnyAsync<Exception>(() => ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?>
        {
            ["Signing:KeyFile"] = keyFile,
            ["Signing:Passphrase"] = "hunter2-not-it",
        }));

        Assert.Contains("Signing:Passphrase", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    private async Task<(Dictionary<string, byte[]> Images, string Repository)> PushAsync(string name)
    {
        var repository = $"e2e/signed/{name}/hello";
        var images = new Dictionary<string, byte[]>();
        foreach (var (version, seed) in new[] { ("v1", 1), ("v2", 2) })
        {
            images[version] = Payloads.Random(64 * 1024 + seed, seed);
            await _pusher.PushOrasArtifactAsync(repository, version, $"hello-{version}.raw", images[version]);
        }

        return (images, repository);
    }

    private async Task<ProxyServer> StartSignedProxyAsync(GpgKey key, TempDirectory dir, bool armoredKey = true)
    {
        var keyFile = dir.Combine(armoredKey ? "signing.asc" : "signing.gpg");
        await File.WriteAllBytesAsync(keyFile, await key.ExportSecretAsync(armoredKey));
        return await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?>
        {
            ["Signing:KeyFile"] = keyFile,
            ["Signing:Passphrase"] = key.Passphrase,
            ["Proxy:BlobDelivery"] = "stream",
        });
    }

    private static async Task<(string Definitions, string Target)> DefinitionsAsync(TempDirectory dir, Uri server, string repository)
    {
        var target = dir.CreateDirectory("opt", "extensions", "hello");
        var definitions = await new Transfer("hello",
            TransferResource.UrlFile(server, repository, "hello-@v.raw"),
            TransferResource.RegularFile(target, "hello-@v.raw"))
        {
            Verify = true,
            InstancesMax = 3,
        }.WriteAsync(dir);
        return (definitions, target);
    }
}
