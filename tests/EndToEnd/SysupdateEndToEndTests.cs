using SysextFunctions.Tests.Infrastructure;

namespace SysextFunctions.Tests.EndToEnd;

/// <summary>
/// The seed's two use cases, reproduced with the real systemd-sysupdate and systemd-pull against the real
/// registry through the proxy on Kestrel.
/// </summary>
[Collection(RegistryCollection.Name)]
public class SysupdateEndToEndTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);

    [Theory]
    [InlineData("auto")]
    [InlineData("stream")]
    [InlineData("redirect")]
    public async Task DiskImage_ListShowsCandidate_UpdateInstallsAndMovesSymlink(string delivery)
    {
        var repository = $"e2e/{delivery}/kubernetes";
        var images = new Dictionary<string, byte[]>();
        foreach (var (version, seed) in new[] { ("v1.27.6", 6), ("v1.27.7", 7), ("v1.27.8", 8) })
        {
            images[version] = Payloads.Random(256 * 1024 + seed, seed);
            // The seed's oras push: tag carries the architecture, the title is the file name.
            await _pusher.PushOrasArtifactAsync(repository, $"{version}-x86-64", $"kubernetes-{version}-x86-64.raw", images[version]);
        }

        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = delivery });
        using var dir = new TempDirectory();
        var target = dir.CreateDirectory("opt", "extensions", "kubernetes");
        var symlink = Path.Combine(dir.CreateDirectory("etc", "extensions"), "kubernetes.raw");
        // v1.27.7 is installed and current, as in the seed's listing.
        await File.WriteAllBytesAsync(Path.Combine(target, "kubernetes-v1.27.7-x86-64.raw"), images["v1.27.7"]);
        File.CreateSymbolicLink(symlink, Path.Combine(target, "kubernetes-v1.27.7-x86-64.raw"));
        var definitions = await new Transfer("kubernetes",
            TransferResource.UrlFile(proxy.Url, repository, "kubernetes-@v-%a.raw"),
            TransferResource.RegularFile(target, "kubernetes-@v-%a.raw"))
        {
            InstancesMax = 3,
            CurrentSymlink = symlink,
        }.WriteAsync(dir);

        var listed = await SysupdateTool.ListAsync(definitions);

        Assert.Equal("candidate", listed["v1.27.8"]);
        Assert.Equal("current", listed["v1.27.7"]);
        Assert.Equal("available", listed["v1.27.6"]);

        var update = await SysupdateTool.RunAsync(definitions, "update");

        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Equal(images["v1.27.8"], await File.ReadAllBytesAsync(Path.Combine(target, "kubernetes-v1.27.8-x86-64.raw")));
        Assert.Equal(images["v1.27.7"], await File.ReadAllBytesAsync(Path.Combine(target, "kubernetes-v1.27.7-x86-64.raw")));
        Assert.Equal("kubernetes-v1.27.8-x86-64.raw", Path.GetFileName(new FileInfo(symlink).LinkTarget));
        Assert.Equal("current", (await SysupdateTool.ListAsync(definitions))["v1.27.8"]);
    }

    [Theory]
    [InlineData("docker")]
    [InlineData("oci")]
    public async Task ContainerLayer_UpdateUnpacksIntoDirectory(string mediaTypes)
    {
        var repository = $"e2e/{mediaTypes}/layer";
        var layer = Payloads.TarGz(
            ("file", $"hello from a {mediaTypes} layer\n"),
            ("usr/lib/extension-release.d/extension-release.layer", "ID=_any\n"));
        _ = mediaTypes == "docker"
            ? await _pusher.PushDockerImageAsync(repository, "v1.0", layer)
            : await _pusher.PushOciImageAsync(repository, "v1.0", layer);
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var dir = new TempDirectory();
        var target = dir.CreateDirectory("opt", "extensions");
        var extensions = dir.CreateDirectory("etc", "extensions");
        var definitions = await new Transfer("layer",
            TransferResource.UrlTar(proxy.Url, repository, "layer-@v.tar.gz"),
            TransferResource.Directory(target, "layer-@v.tar.gz"))
        {
            InstancesMax = 3,
            CurrentSymlink = Path.Combine(extensions, "layer"),
        }.WriteAsync(dir);

        Assert.Equal("candidate", (await SysupdateTool.ListAsync(definitions))["v1.0"]);

        var update = await SysupdateTool.RunAsync(definitions, "update");

        Assert.True(update.ExitCode == 0, update.ToString());
        var installed = Path.Combine(target, "layer-v1.0.tar.gz");
        Assert.Equal($"hello from a {mediaTypes} layer\n", await File.ReadAllTextAsync(Path.Combine(installed, "file")));
        Assert.True(File.Exists(Path.Combine(installed, "usr/lib/extension-release.d/extension-release.layer")));
        Assert.Equal(installed, Path.GetFullPath(new FileInfo(Path.Combine(extensions, "layer")).LinkTarget!, extensions));
    }
}
