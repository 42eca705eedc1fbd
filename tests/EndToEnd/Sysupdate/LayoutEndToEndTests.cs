using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Sysupdate;

/// <summary>No registry at all: an OCI layout directory served to the real systemd-sysupdate.</summary>
public class LayoutEndToEndTests
{
    [Theory]
    [InlineData("auto")]
    [InlineData("redirect")]
    public async Task Layout_Update_InstallsNewestAndMultiArch(string delivery)
    {
        using var dir = new TempDirectory();
        var layouts = dir.CreateDirectory("layouts");
        var images = new Dictionary<string, byte[]>();
        var kubernetes = new OciLayoutWriter(Path.Combine(layouts, "kubernetes"));
        foreach (var (version, seed) in new[] { ("v1.27.7", 7), ("v1.27.8", 8) })
        {
            images[version] = Payloads.Random(128 * 1024 + seed, seed);
            // What `oras push --oci-layout layouts/kubernetes:<version>-x86-64 kubernetes-<version>-x86-64.raw` writes.
            kubernetes.AddOrasArtifact($"{version}-x86-64", $"kubernetes-{version}-x86-64.raw", images[version]);
        }

        var tool = new OciLayoutWriter(Path.Combine(layouts, "tools", "tool"));
        images["tool-amd64"] = Payloads.Random(10_000, 20);
        tool.AddIndex("v3",
            (tool.AddOrasArtifact(null, "tool.raw", Payloads.Random(10_000, 21)), "linux", "arm64"),
            (tool.AddOrasArtifact(null, "tool.raw", images["tool-amd64"]), "linux", "amd64"));

        // No registry: Registry:Url points nowhere and must not be used.
        await using var proxy = await ProxyServer.StartAsync(new Uri($"http://127.0.0.1:{FreePort.Next()}"), new Dictionary<string, string?>
        {
            ["Registry:Layout"] = layouts,
            ["Proxy:BlobDelivery"] = delivery,
        });
        var kubernetesTarget = dir.CreateDirectory("opt", "extensions", "kubernetes");
        var toolTarget = dir.CreateDirectory("opt", "extensions", "tool");
        var definitions = await ArchTransfer(proxy.Url, "kubernetes", "kubernetes", kubernetesTarget).WriteAsync(dir);
        using var toolDir = new TempDirectory();
        var toolDefinitions = await ArchTransfer(proxy.Url, "tools/tool", "tool", toolTarget).WriteAsync(toolDir);

        var listed = await SysupdateTool.ListAsync(definitions);
        var update = await SysupdateTool.RunAsync(definitions, "update");
        var toolUpdate = await SysupdateTool.RunAsync(toolDefinitions, "update");

        Assert.Equal("candidate", listed["v1.27.8"]);
        Assert.Equal("available", listed["v1.27.7"]);
        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Equal(images["v1.27.8"], await File.ReadAllBytesAsync(Path.Combine(kubernetesTarget, "kubernetes-v1.27.8-x86-64.raw")));
        Assert.True(toolUpdate.ExitCode == 0, toolUpdate.ToString());
        Assert.Equal(images["tool-amd64"], await File.ReadAllBytesAsync(Path.Combine(toolTarget, "tool-v3-x86-64.raw")));
    }

    private static Transfer ArchTransfer(Uri proxy, string repository, string name, string target) => new(name,
        TransferResource.UrlFile(proxy, repository, $"{name}-@v-%a.raw"),
        TransferResource.RegularFile(target, $"{name}-@v-%a.raw"));
}
