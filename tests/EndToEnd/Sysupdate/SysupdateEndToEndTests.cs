using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Sysupdate;

/// <summary>
/// The seed's two use cases, reproduced with the real systemd-sysupdate and systemd-pull of each client version
/// (<see cref="SysupdateClient"/>: 254, 257, the newest) against the real registry through the proxy on Kestrel,
/// with content pushed by the real oras.
/// </summary>
[Collection(RegistryCollection.Name)]
public class SysupdateEndToEndTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);
    private readonly Oras _oras = new(registry.Url);

    [Theory]
    [InlineData("auto", SysupdateClient.V254)]
    [InlineData("stream", SysupdateClient.V254)]
    [InlineData("redirect", SysupdateClient.V254)]
    [InlineData("auto", SysupdateClient.V257)]
    [InlineData("stream", SysupdateClient.V257)]
    [InlineData("redirect", SysupdateClient.V257)]
    [InlineData("auto", SysupdateClient.Newest)]
    [InlineData("stream", SysupdateClient.Newest)]
    [InlineData("redirect", SysupdateClient.Newest)]
    public async Task DiskImage_ListShowsCandidate_UpdateInstallsAndMovesSymlink(string delivery, string client)
    {
        var sysupdate = SysupdateClient.Get(client);
        var repository = $"e2e/{delivery}/{client}/kubernetes";
        var images = new Dictionary<string, byte[]>();
        foreach (var (version, seed) in new[] { ("v1.27.6", 6), ("v1.27.7", 7), ("v1.27.8", 8) })
        {
            images[version] = Payloads.Random(256 * 1024 + seed, seed);
            // The seed's oras push: tag carries the architecture, the title is the file name.
            await _oras.PushAsync(repository, $"{version}-x86-64", $"kubernetes-{version}-x86-64.raw", images[version]);
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

        var listed = await sysupdate.ListAsync(definitions);

        Assert.Equal("candidate", listed["v1.27.8"]);
        Assert.Equal("current", listed["v1.27.7"]);
        Assert.Equal("available", listed["v1.27.6"]);

        var update = await sysupdate.RunAsync(definitions, null, "update");

        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Equal(images["v1.27.8"], await File.ReadAllBytesAsync(Path.Combine(target, "kubernetes-v1.27.8-x86-64.raw")));
        Assert.Equal(images["v1.27.7"], await File.ReadAllBytesAsync(Path.Combine(target, "kubernetes-v1.27.7-x86-64.raw")));
        Assert.Equal("kubernetes-v1.27.8-x86-64.raw", Path.GetFileName(new FileInfo(symlink).LinkTarget));
        Assert.Equal("current", (await sysupdate.ListAsync(definitions))["v1.27.8"]);
    }

    /// <summary>
    /// A layer pushed by docker (our pusher: oras makes no Docker v2 manifests), by buildah/podman (an OCI image),
    /// or by <c>oras push layer-v1.0.tar.gz</c>.
    /// </summary>
    [Theory]
    [InlineData("docker", SysupdateClient.V254)]
    [InlineData("oci", SysupdateClient.V254)]
    [InlineData("oras", SysupdateClient.V254)]
    [InlineData("docker", SysupdateClient.V257)]
    [InlineData("oras", SysupdateClient.V257)]
    [InlineData("oci", SysupdateClient.Newest)]
    [InlineData("oras", SysupdateClient.Newest)]
    public async Task ContainerLayer_UpdateUnpacksIntoDirectory(string pushedBy, string client)
    {
        var sysupdate = SysupdateClient.Get(client);
        var repository = $"e2e/{pushedBy}/{client}/layer";
        var layer = Payloads.TarGz(
            ("file", $"hello from a {pushedBy} layer\n"),
            ("usr/lib/extension-release.d/extension-release.layer", "ID=_any\n"));
        _ = pushedBy switch
        {
            "docker" => (await _pusher.PushDockerImageAsync(repository, "v1.0", layer)).ManifestDigest,
            "oci" => (await _pusher.PushOciImageAsync(repository, "v1.0", layer)).ManifestDigest,
            _ => await _oras.PushAsync(repository, "v1.0", "layer-v1.0.tar.gz", layer),
        };
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

        Assert.Equal("candidate", (await sysupdate.ListAsync(definitions))["v1.0"]);

        var update = await sysupdate.RunAsync(definitions, null, "update");

        Assert.True(update.ExitCode == 0, update.ToString());
        var installed = Path.Combine(target, "layer-v1.0.tar.gz");
        Assert.Equal($"hello from a {pushedBy} layer\n", await File.ReadAllTextAsync(Path.Combine(installed, "file")));
        Assert.True(File.Exists(Path.Combine(installed, "usr/lib/extension-release.d/extension-release.layer")));
        Assert.Equal(installed, Path.GetFullPath(new FileInfo(Path.Combine(extensions, "layer")).LinkTarget!, extensions));
    }
}
