using SysextFunctions.Tests.Infrastructure;

namespace SysextFunctions.Tests.EndToEnd;

/// <summary>No registry at all: an OCI layout directory served to the real systemd-sysupdate.</summary>
public class LayoutEndToEndTests
{
    [Theory]
    [InlineData("auto")]
    [InlineData("redirect")]
    public async Task Layout_Update_InstallsNewestAndMultiArch(string delivery)
    {
        using var dir = new TempDirectory();
        var layouts = Directory.CreateDirectory(dir.Combine("layouts")).FullName;
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
        var kubernetesTarget = Directory.CreateDirectory(dir.Combine("opt", "extensions", "kubernetes")).FullName;
        var toolTarget = Directory.CreateDirectory(dir.Combine("opt", "extensions", "tool")).FullName;
        var definitions = Directory.CreateDirectory(dir.Combine("definitions")).FullName;
        await File.WriteAllTextAsync(Path.Combine(definitions, "50-kubernetes.conf"), Transfer(proxy.Url, "kubernetes", "kubernetes", kubernetesTarget));
        using var toolDir = new TempDirectory();
        var toolDefinitions = Directory.CreateDirectory(toolDir.Combine("definitions")).FullName;
        await File.WriteAllTextAsync(Path.Combine(toolDefinitions, "50-tool.conf"), Transfer(proxy.Url, "tools/tool", "tool", toolTarget));

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

    private static string Transfer(Uri proxy, string repository, string name, string target) => $"""
        [Transfer]
        Verify=false

        [Source]
        Type=url-file
        Path={proxy}{repository}
        MatchPattern={name}-@v-%a.raw

        [Target]
        InstancesMax=2
        Type=regular-file
        Path={target}
        MatchPattern={name}-@v-%a.raw
        """;
}
