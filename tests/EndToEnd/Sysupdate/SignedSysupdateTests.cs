using System.Net;
using System.Text;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Sysupdate;

/// <summary>
/// <c>Verify=yes</c> with the real systemd-sysupdate and systemd-pull of each client version (254, 257, the newest)
/// and gpg: the SHA256SUMS we serve is signed with a key made by gpg, and sysupdate checks it against a keyring at
/// /etc/systemd/import-pubring.gpg inside a private mount namespace.
/// </summary>
[Collection(RegistryCollection.Name)]
public class SignedSysupdateTests(RegistryServer registry)
{
    private readonly Oras _oras = new(registry.Url);

    [Theory]
    [InlineData(SysupdateClient.V254)]
    [InlineData(SysupdateClient.V257)]
    [InlineData(SysupdateClient.Newest)]
    public async Task VerifyYes_RightKey_ListsAndUpdates(string client)
    {
        var sysupdate = SysupdateClient.Get(client);
        var (images, repository) = await PushAsync($"right/{client}");
        await using var key = await GpgKey.CreateAsync();
        using var dir = new TempDirectory();
        await using var proxy = await StartSignedProxyAsync(key, dir);
        var (definitions, target) = await DefinitionsAsync(dir, proxy.Url, repository);

        var listed = await sysupdate.ListAsync(definitions, key.KeyringPath);
        var update = await sysupdate.RunAsync(definitions, key.KeyringPath, "update");

        Assert.Equal("candidate", listed["v2"]);
        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Contains("Signature verification succeeded", update.Stderr, StringComparison.Ordinal);
        Assert.Equal(images["v2"], await File.ReadAllBytesAsync(Path.Combine(target, "hello-v2.raw")));
    }

    [Theory]
    [InlineData(SysupdateClient.V254)]
    [InlineData(SysupdateClient.V257)]
    [InlineData(SysupdateClient.Newest)]
    public async Task VerifyYes_WrongKey_Refuses(string client)
    {
        var sysupdate = SysupdateClient.Get(client);
        var (_, repository) = await PushAsync($"wrong/{client}");
        await using var key = await GpgKey.CreateAsync();
        await using var other = await GpgKey.CreateAsync();
        using var dir = new TempDirectory();
        await using var proxy = await StartSignedProxyAsync(key, dir);
        var (definitions, target) = await DefinitionsAsync(dir, proxy.Url, repository);

        var list = await sysupdate.RunAsync(definitions, other.KeyringPath, "list");
        var update = await sysupdate.RunAsync(definitions, other.KeyringPath, "update");

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

    [Theory]
    [InlineData(SysupdateClient.V254)]
    [InlineData(SysupdateClient.V257)]
    [InlineData(SysupdateClient.Newest)]
    public async Task VerifyYes_ListTamperedOnTheWay_Refuses(string client)
    {
        var sysupdate = SysupdateClient.Get(client);
        var (_, repository) = await PushAsync($"tampered/{client}");
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

        var update = await sysupdate.RunAsync(definitions, key.KeyringPath, "update");

        Assert.True(update.ExitCode != 0, update.ToString());
        Assert.Contains("Signature verification failed", update.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(target));
        Assert.Contains(relay.Requests, r => r.EndsWith("/SHA256SUMS.gpg", StringComparison.Ordinal));
    }

    /// <summary>
    /// <c>Signing:BestBefore</c>: systemd ≥ 260 takes a signed list whose marker date lies ahead, and refuses one
    /// whose date has passed (a negative setting dates it yesterday, as a list replayed a day too late would be).
    /// </summary>
    [Theory]
    [InlineData(SysupdateClient.Newest, "7.00:00:00", true)]
    [InlineData(SysupdateClient.Newest, "-1.00:00:00", false)]
    public async Task VerifyYes_BestBefore_NewestClientTakesFreshRefusesStale(string client, string bestBefore, bool fresh)
    {
        var sysupdate = SysupdateClient.Get(client);
        Assert.True(await sysupdate.MajorVersionAsync() >= 260, $"the newest client ({sysupdate}) is older than 260, which reads BEST-BEFORE markers");
        var (images, repository) = await PushAsync($"best-before/{client}/{(fresh ? "fresh" : "stale")}");
        await using var key = await GpgKey.CreateAsync();
        using var dir = new TempDirectory();
        await using var proxy = await StartSignedProxyAsync(key, dir, bestBefore: bestBefore);
        var (definitions, target) = await DefinitionsAsync(dir, proxy.Url, repository);

        var update = await sysupdate.RunAsync(definitions, key.KeyringPath, "update");

        if (fresh)
        {
            Assert.True(update.ExitCode == 0, update.ToString());
            Assert.Equal(images["v2"], await File.ReadAllBytesAsync(Path.Combine(target, "hello-v2.raw")));
        }
        else
        {
            Assert.True(update.ExitCode != 0, update.ToString());
            Assert.Contains("Best before marker indicates out-of-date file list", update.Stderr, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(target));
        }
    }

    /// <summary>systemd 254 (before 260) reads the marker as a file no pattern matches: even a past date changes nothing.</summary>
    [Fact]
    public async Task VerifyYes_BestBeforePassed_254IgnoresMarker()
    {
        var sysupdate = SysupdateClient.Bookworm;
        var (images, repository) = await PushAsync("best-before/254");
        await using var key = await GpgKey.CreateAsync();
        using var dir = new TempDirectory();
        await using var proxy = await StartSignedProxyAsync(key, dir, bestBefore: "-1.00:00:00");
        var (definitions, target) = await DefinitionsAsync(dir, proxy.Url, repository);
        using var http = proxy.CreateClient();

        var list = await http.GetStringAsync($"/{repository}/SHA256SUMS");
        var listed = await sysupdate.ListAsync(definitions, key.KeyringPath);
        var update = await sysupdate.RunAsync(definitions, key.KeyringPath, "update");

        Assert.StartsWith($"{SysextFunctions.Sysupdate.Checksums.EmptySha256} *BEST-BEFORE-", list, StringComparison.Ordinal);
        Assert.Equal("candidate", listed["v2"]);
        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Equal(images["v2"], await File.ReadAllBytesAsync(Path.Combine(target, "hello-v2.raw")));
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
            await _oras.PushAsync(repository, version, $"hello-{version}.raw", images[version]);
        }

        return (images, repository);
    }

    private async Task<ProxyServer> StartSignedProxyAsync(GpgKey key, TempDirectory dir, bool armoredKey = true, string? bestBefore = null)
    {
        var keyFile = dir.Combine(armoredKey ? "signing.asc" : "signing.gpg");
        await File.WriteAllBytesAsync(keyFile, await key.ExportSecretAsync(armoredKey));
        return await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?>
        {
            ["Signing:KeyFile"] = keyFile,
            ["Signing:Passphrase"] = key.Passphrase,
            ["Signing:BestBefore"] = bestBefore,
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
