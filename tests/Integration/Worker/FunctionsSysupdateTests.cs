using System.Text;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Worker;

/// <summary>
/// The real systemd-sysupdate and systemd-pull (254, and the newest client of docs/clients.md) against the real
/// registry through the Azure Functions hosting: the built worker behind the host emulator. Every invocation must end with a success InvocationResponse.
/// </summary>
[Collection(RegistryCollection.Name)]
public class FunctionsSysupdateTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);

    [Theory]
    [InlineData("auto", SysupdateClient.V254)]
    [InlineData("stream", SysupdateClient.V254)]
    [InlineData("redirect", SysupdateClient.V254)]
    [InlineData("auto", SysupdateClient.Newest)]
    [InlineData("stream", SysupdateClient.Newest)]
    public async Task DiskImage_ThroughFunctionsHost_ListsAndUpdates(string delivery, string clientName)
    {
        var client = SysupdateClient.Get(clientName);
        var repository = $"functions/{delivery}/{clientName}/kubernetes";
        var images = await PushAsync(repository, "kubernetes", ("v1.27.7", 7), ("v1.27.8", 8));
        await using var functions = await FunctionsHostServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = delivery });
        using var dir = new TempDirectory();
        var target = dir.CreateDirectory("opt", "extensions", "kubernetes");
        var symlink = Path.Combine(dir.CreateDirectory("etc", "extensions"), "kubernetes.raw");
        await File.WriteAllBytesAsync(Path.Combine(target, "kubernetes-v1.27.7.raw"), images["v1.27.7"]);
        File.CreateSymbolicLink(symlink, Path.Combine(target, "kubernetes-v1.27.7.raw"));
        var definitions = await new Transfer("kubernetes",
            TransferResource.UrlFile(functions.Url, repository, "kubernetes-@v.raw"),
            TransferResource.RegularFile(target, "kubernetes-@v.raw"))
        {
            InstancesMax = 3,
            CurrentSymlink = symlink,
        }.WriteAsync(dir);

        var listed = await ListAsync(client, functions, definitions);
        var update = await client.RunAsync(definitions, keyring: null, "update");

        Assert.Equal("candidate", listed["v1.27.8"]);
        Assert.Equal("current", listed["v1.27.7"]);
        Assert.True(update.ExitCode == 0, $"{update}\n{functions.Log.Describe()}");
        Assert.Equal(images["v1.27.8"], await File.ReadAllBytesAsync(Path.Combine(target, "kubernetes-v1.27.8.raw")));
        Assert.Equal("kubernetes-v1.27.8.raw", Path.GetFileName(new FileInfo(symlink).LinkTarget));
        Assert.Equal("current", (await ListAsync(client, functions, definitions))["v1.27.8"]);
        await functions.AssertEveryInvocationSucceededAsync();
        Assert.Contains(functions.Emulator.Invocations, i => i.Target.EndsWith("/kubernetes-v1.27.8.raw", StringComparison.Ordinal)
            && i.ResponseStatus == (delivery == "redirect" ? 307 : 200));
    }

    [Theory]
    [InlineData(SysupdateClient.V254)]
    [InlineData(SysupdateClient.Newest)]
    public async Task VerifyYes_KeyInAppSettings_ListsAndUpdatesSigned(string clientName)
    {
        var client = SysupdateClient.Get(clientName);
        var repository = $"functions/signed/{clientName}/hello";
        var images = await PushAsync(repository, "hello", ("v1", 1), ("v2", 2));
        await using var key = await GpgKey.CreateAsync();
        // As in Azure: the key itself in an app setting (there, a Key Vault reference), not a file.
        await using var functions = await FunctionsHostServer.StartAsync(registry.Url, new Dictionary<string, string?>
        {
            ["Signing:Key"] = Encoding.ASCII.GetString(await key.ExportSecretAsync(armor: true)),
        });
        using var dir = new TempDirectory();
        var target = dir.CreateDirectory("opt", "extensions", "hello");
        var definitions = await new Transfer("hello",
            TransferResource.UrlFile(functions.Url, repository, "hello-@v.raw"),
            TransferResource.RegularFile(target, "hello-@v.raw"))
        {
            Verify = true,
            InstancesMax = 3,
        }.WriteAsync(dir);

        var listed = await ListAsync(client, functions, definitions, key.KeyringPath);
        var update = await client.RunAsync(definitions, key.KeyringPath, "update");

        Assert.Equal("candidate", listed["v2"]);
        Assert.True(update.ExitCode == 0, $"{update}\n{functions.Log.Describe()}");
        Assert.Contains("Signature verification succeeded", update.Stderr, StringComparison.Ordinal);
        Assert.Equal(images["v2"], await File.ReadAllBytesAsync(Path.Combine(target, "hello-v2.raw")));
        await functions.AssertEveryInvocationSucceededAsync();
        Assert.Contains(functions.Emulator.Invocations, i => i.Target.EndsWith("/SHA256SUMS.gpg", StringComparison.Ordinal) && i.ResponseStatus == 200);
    }

    /// <summary><see cref="SysupdateClient.ListAsync"/>, failing with what the emulator and the worker logged.</summary>
    private static async Task<Dictionary<string, string>> ListAsync(SysupdateClient client, FunctionsHostServer functions, string definitions, string? keyring = null)
    {
        try
        {
            return await client.ListAsync(definitions, keyring);
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\n--- invocations\n{string.Join('\n', functions.Emulator.Invocations)}\n--- log\n{functions.Log.Describe()}");
        }
    }

    private async Task<Dictionary<string, byte[]>> PushAsync(string repository, string name, params (string Version, int Seed)[] versions)
    {
        var images = new Dictionary<string, byte[]>();
        foreach (var (version, seed) in versions)
        {
            images[version] = Payloads.Random(128 * 1024 + seed, seed);
            await _pusher.PushOrasArtifactAsync(repository, version, $"{name}-{version}.raw", images[version]);
        }

        return images;
    }
}
