using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Sysupdate;

/// <summary>
/// The acceptance check of the generated transfer definitions: each is downloaded from the proxy into a definitions
/// directory, byte for byte, and the real systemd-sysupdate 254 lists and updates with it unchanged, its target
/// paths (/opt/extensions, /etc/extensions) being the real ones inside a private mount namespace.
/// </summary>
[Collection(RegistryCollection.Name)]
public class TransferEndToEndTests(RegistryServer registry)
{
    private const string Separator = "=====";

    private readonly OciPusher _pusher = new(registry.Url);

    [Fact]
    public async Task RawRepository_DownloadedTransferAsIs_ListsAndUpdates()
    {
        const string repository = "e2e/transfer/raw/hello";
        var images = new Dictionary<string, byte[]>();
        foreach (var (version, seed) in new[] { ("v1", 1), ("v2", 2) })
        {
            images[version] = Payloads.Random(128 * 1024 + seed, seed);
            await _pusher.PushOrasArtifactAsync(repository, version, $"hello-{version}.raw", images[version]);
        }

        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = "stream" });
        using var dir = new TempDirectory();
        var (definitions, transfer) = await DownloadAsync(proxy, repository, "hello", dir);

        var (listed, link, installed) = await ListUpdateAsync(definitions, "hello.raw", "/opt/extensions/hello");

        Assert.Contains("\nMatchPattern=hello-@v.raw\n", transfer, StringComparison.Ordinal);
        Assert.Equal("candidate", listed["v2"]);
        Assert.Equal("available", listed["v1"]);
        Assert.Equal("/opt/extensions/hello/hello-v2.raw", link);
        Assert.Equal(OciPusher.Sha256(images["v2"])[7..], installed["hello-v2.raw"]);
        Assert.Single(installed);
    }

    [Fact]
    public async Task MultiArchRepository_DownloadedTransferAsIs_InstallsThisMachinesArchitecture()
    {
        Assert.True(RuntimeInformation.OSArchitecture == Architecture.X64, "the unpacked systemd is amd64: these tests run on x86-64");
        const string repository = "e2e/transfer/multi/tool";
        var amd64 = new Dictionary<string, byte[]>();
        foreach (var (version, seed) in new[] { ("v1.0", 10), ("v1.1", 20) })
        {
            amd64[version] = Payloads.Random(96 * 1024 + seed, seed);
            var x86 = await _pusher.PushOrasArtifactAsync(repository, null, "tool.raw", amd64[version]);
            var arm = await _pusher.PushOrasArtifactAsync(repository, null, "tool.raw", Payloads.Random(96 * 1024, seed + 1));
            await _pusher.PushIndexAsync(repository, version, (x86, "linux", "amd64", null), (arm, "linux", "arm64", "v8"));
        }

        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var dir = new TempDirectory();
        var (definitions, transfer) = await DownloadAsync(proxy, repository, "tool", dir);

        var (listed, link, installed) = await ListUpdateAsync(definitions, "tool.raw", "/opt/extensions/tool");

        Assert.Contains("\nMatchPattern=tool-@v-%a.raw\n", transfer, StringComparison.Ordinal);
        Assert.Equal("candidate", listed["v1.1"]);
        Assert.Equal("available", listed["v1.0"]);
        Assert.Equal("/opt/extensions/tool/tool-v1.1-x86-64.raw", link);
        Assert.Equal(OciPusher.Sha256(amd64["v1.1"])[7..], installed["tool-v1.1-x86-64.raw"]);
        Assert.Single(installed);
    }

    [Fact]
    public async Task TarRepository_DownloadedTransferAsIs_UnpacksIntoDirectory()
    {
        const string repository = "e2e/transfer/tar/layer";
        await _pusher.PushOciImageAsync(repository, "v1.0", Payloads.TarGz(
            ("file", "hello from the transfer test\n"),
            ("usr/lib/extension-release.d/extension-release.layer", "ID=_any\n")));
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var dir = new TempDirectory();
        var (definitions, transfer) = await DownloadAsync(proxy, repository, "layer", dir);

        var run = await SystemSandbox.RunAsync(definitions, $"""
            {SetupOf(definitions)}
            $SYSUPDATE --json=short list
            echo {Separator}
            $SYSUPDATE update >&2
            echo {Separator}
            readlink -f /etc/extensions/layer
            cat /opt/extensions/layer/layer-v1.0/file
            """);

        Assert.True(run.ExitCode == 0, run.ToString());
        var parts = run.Stdout.Split(Separator + "\n");
        Assert.Contains("\nType=url-tar\n", transfer, StringComparison.Ordinal);
        Assert.Equal("candidate", Versions(parts[0])["v1.0"]);
        Assert.Equal("/opt/extensions/layer/layer-v1.0\nhello from the transfer test\n", parts[2]);
    }

    [Fact]
    public async Task SignedServer_DownloadedTransferSaysVerifyYes_UpdatesWithItsKey()
    {
        const string repository = "e2e/transfer/signed/hello";
        var image = Payloads.Random(70 * 1024, 5);
        await _pusher.PushOrasArtifactAsync(repository, "v1", "hello-v1.raw", image);
        await using var key = await GpgKey.CreateAsync();
        using var dir = new TempDirectory();
        var keyFile = dir.Combine("signing.asc");
        await File.WriteAllBytesAsync(keyFile, await key.ExportSecretAsync(armor: true));
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?>
        {
            ["Signing:KeyFile"] = keyFile,
            ["Signing:Passphrase"] = key.Passphrase,
        });
        var (definitions, transfer) = await DownloadAsync(proxy, repository, "hello", dir);

        var run = await SystemSandbox.RunAsync(definitions, $"""
            {SetupOf(definitions)}
            $SYSUPDATE update
            echo {Separator}
            sha256sum /opt/extensions/hello/hello-v1.raw
            """, key.KeyringPath);

        Assert.Contains("\nVerify=yes\n", transfer, StringComparison.Ordinal);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Signature verification succeeded", run.Stderr, StringComparison.Ordinal);
        Assert.StartsWith(OciPusher.Sha256(image)[7..], run.Stdout.Split(Separator + "\n")[1], StringComparison.Ordinal);
    }

    /// <summary>Saves <c>/&lt;repository&gt;/&lt;name&gt;.transfer</c> as systemd 254 reads it, <c>50-&lt;name&gt;.conf</c>, byte for byte.</summary>
    private static async Task<(string Definitions, string Transfer)> DownloadAsync(ProxyServer proxy, string repository, string name, TempDirectory dir)
    {
        using var client = proxy.CreateClient();
        using var response = await client.GetAsync($"/{repository}/{name}.transfer");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var definitions = dir.CreateDirectory("sysupdate.d");
        await File.WriteAllBytesAsync(Path.Combine(definitions, $"50-{name}.conf"), bytes);
        var transfer = System.Text.Encoding.UTF8.GetString(bytes);
        Assert.Contains($"\nPath={proxy.Url}{repository}\n", transfer, StringComparison.Ordinal);
        return (definitions, transfer);
    }

    /// <summary>list, update, then where the current link points and the SHA-256 of every installed file.</summary>
    private static async Task<(Dictionary<string, string> Listed, string Link, Dictionary<string, string> Installed)> ListUpdateAsync(string definitions, string link, string target)
    {
        var run = await SystemSandbox.RunAsync(definitions, $"""
            {SetupOf(definitions)}
            $SYSUPDATE --json=short list
            echo {Separator}
            $SYSUPDATE update >&2
            readlink -f /etc/extensions/{link}
            echo {Separator}
            cd {target} && sha256sum *
            """);

        Assert.True(run.ExitCode == 0, run.ToString());
        var parts = run.Stdout.Split(Separator + "\n");
        var installed = parts[2].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split("  "))
            .ToDictionary(p => p[1], p => p[0]);
        return (Versions(parts[0]), parts[1].TrimEnd('\n'), installed);
    }

    /// <summary>The one-time setup the downloaded definition names in its comments, as a user would run it.</summary>
    private static string SetupOf(string definitions)
    {
        var prefix = "# sysupdate does not create the target directories. " + SysextFunctions.Catalogue.TransferDefinition.SetupPrefix;
        var line = File.ReadAllLines(Directory.GetFiles(definitions).Single()).Single(l => l.StartsWith(prefix, StringComparison.Ordinal));
        var command = line[prefix.Length..];
        Assert.Matches("^mkdir -p [a-z/ ]+$", command);
        return command;
    }

    private static Dictionary<string, string> Versions(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("version").GetString()!, e => e.GetProperty("assessment").GetString()!);
    }
}
