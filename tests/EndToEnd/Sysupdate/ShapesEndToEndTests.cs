using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Sysupdate;

/// <summary>
/// Multi-arch indexes and compressed payloads, pushed by the real oras and installed by the real systemd-sysupdate
/// through the proxy.
/// </summary>
[Collection(RegistryCollection.Name)]
public class ShapesEndToEndTests(RegistryServer registry)
{
    private readonly Oras _oras = new(registry.Url);

    /// <summary>
    /// <c>oras push --artifact-platform linux/ARCH</c> by digest per architecture, then <c>oras manifest index create</c>.
    /// </summary>
    [Fact]
    public async Task Index_MatchPatternWithArchitecture_InstallsX8664File()
    {
        const string repository = "e2e/index/tool";
        var images = new Dictionary<string, byte[]>();
        foreach (var (version, seed) in new[] { ("v1.0", 1), ("v2.0", 2) })
        {
            images[$"{version}-amd64"] = Payloads.Random(64 * 1024 + seed, seed);
            images[$"{version}-arm64"] = Payloads.Random(64 * 1024 + seed, seed + 100);
            var amd64 = await _oras.PushAsync(repository, null, "tool.raw", images[$"{version}-amd64"], "linux/amd64");
            var arm64 = await _oras.PushAsync(repository, null, "tool.raw", images[$"{version}-arm64"], "linux/arm64");
            await _oras.IndexAsync(repository, version, arm64, amd64);
        }

        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var dir = new TempDirectory();
        var target = dir.CreateDirectory("opt", "extensions", "tool");
        var symlink = Path.Combine(dir.CreateDirectory("etc", "extensions"), "tool.raw");
        var definitions = await new Transfer("tool",
            TransferResource.UrlFile(proxy.Url, repository, "tool-@v-%a.raw"),
            TransferResource.RegularFile(target, "tool-@v-%a.raw"))
        {
            CurrentSymlink = symlink,
        }.WriteAsync(dir);

        var listed = await SysupdateTool.ListAsync(definitions);
        var update = await SysupdateTool.RunAsync(definitions, "update");

        Assert.Equal("candidate", listed["v2.0"]);
        Assert.Equal("available", listed["v1.0"]);
        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Equal(images["v2.0-amd64"], await File.ReadAllBytesAsync(Path.Combine(target, "tool-v2.0-x86-64.raw")));
        Assert.Equal("tool-v2.0-x86-64.raw", Path.GetFileName(new FileInfo(symlink).LinkTarget));
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("stream")]
    public async Task RawXz_Update_InstallsDecompressedImage(string delivery)
    {
        var repository = $"e2e/xz/{delivery}/image";
        var image = Payloads.Random(200 * 1024, 42);
        var compressed = await Payloads.CompressAsync("xz", image);
        await _oras.PushAsync(repository, "v1.0", "image-v1.0.raw.xz", compressed);
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = delivery });
        using var dir = new TempDirectory();
        var target = dir.CreateDirectory("opt", "extensions", "image");
        var definitions = await new Transfer("image",
            TransferResource.UrlFile(proxy.Url, repository, "image-@v.raw.xz"),
            TransferResource.RegularFile(target, "image-@v.raw")).WriteAsync(dir);

        var update = await SysupdateTool.RunAsync(definitions, "update");

        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Equal(image, await File.ReadAllBytesAsync(Path.Combine(target, "image-v1.0.raw")));
    }

    [Fact]
    public async Task TarXz_Update_UnpacksIntoDirectory()
    {
        const string repository = "e2e/txz/layer";
        var tar = Payloads.Tar(
            ("file", "hello from an xz layer\n"),
            ("usr/lib/extension-release.d/extension-release.layer", "ID=_any\n"));
        await _oras.PushAsync(repository, "v1.0", "layer.tar.xz", await Payloads.CompressAsync("xz", tar));
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var dir = new TempDirectory();
        var target = dir.CreateDirectory("opt", "extensions");
        var definitions = await LayerTransfer(proxy.Url, repository, ".tar.xz", target).WriteAsync(dir);

        var update = await SysupdateTool.RunAsync(definitions, "update");

        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Equal("hello from an xz layer\n", await File.ReadAllTextAsync(Path.Combine(target, "layer-v1.0", "file")));
    }

    /// <summary>
    /// systemd-pull 254 decompresses xz, gzip and bzip2 only; it hands a zstd tarball to tar undecompressed. So with
    /// 254 a .tar.zst is proven up to what it can do: listed by sysupdate under its MatchPattern, and its exact bytes
    /// served under the name, which the zstd CLI then unpacks.
    /// </summary>
    [Fact]
    public async Task TarZst_254ListsIt_BytesServedUnpack()
    {
        const string repository = "e2e/zstd/layer";
        var tar = Payloads.Tar(("file", "hello from a zstd layer\n"));
        var compressed = await Payloads.CompressAsync("zstd", tar);
        await _oras.PushAsync(repository, "v1.0", "layer.tar.zst", compressed);
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var dir = new TempDirectory();
        var target = dir.CreateDirectory("opt", "extensions");
        var definitions = await LayerTransfer(proxy.Url, repository, ".tar.zst", target).WriteAsync(dir);
        using var client = proxy.CreateClient();

        var listed = await SysupdateTool.ListAsync(definitions);
        var served = await client.GetByteArrayAsync($"/{repository}/layer-v1.0.tar.zst");

        Assert.Equal("candidate", listed["v1.0"]);
        Assert.Equal(compressed, served);
        Assert.Equal(tar, await Payloads.DecompressAsync("zstd", served));
    }

    /// <summary>
    /// The newest systemd-pull (measured: 262) decompresses zstd: a .raw.zst and a .tar.zst install. 257's does not
    /// (it passes a .tar.zst to tar as is, which refuses it), so it is not in this theory; docs/clients.md says so.
    /// </summary>
    [Theory]
    [InlineData(SysupdateClient.Newest)]
    public async Task Zstd_NewerClient_UpdateDecompressesRawAndTar(string client)
    {
        var sysupdate = SysupdateClient.Get(client);
        var repository = $"e2e/zstd/{client}";
        var image = Payloads.Random(200 * 1024, 7);
        var tar = Payloads.Tar(("file", "hello from a zstd layer\n"));
        await _oras.PushAsync($"{repository}/image", "v1.0", "image-v1.0.raw.zst", await Payloads.CompressAsync("zstd", image));
        await _oras.PushAsync($"{repository}/layer", "v1.0", "layer-v1.0.tar.zst", await Payloads.CompressAsync("zstd", tar));
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var dir = new TempDirectory();
        var images = dir.CreateDirectory("opt", "images");
        var layers = dir.CreateDirectory("opt", "extensions");
        await new Transfer("image",
            TransferResource.UrlFile(proxy.Url, $"{repository}/image", "image-@v.raw.zst"),
            TransferResource.RegularFile(images, "image-@v.raw")).WriteAsync(dir);
        var definitions = await LayerTransfer(proxy.Url, $"{repository}/layer", ".tar.zst", layers).WriteAsync(dir);

        var update = await sysupdate.RunAsync(definitions, null, "update");

        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Equal(image, await File.ReadAllBytesAsync(Path.Combine(images, "image-v1.0.raw")));
        Assert.Equal("hello from a zstd layer\n", await File.ReadAllTextAsync(Path.Combine(layers, "layer-v1.0", "file")));
    }

    private static Transfer LayerTransfer(Uri proxy, string repository, string suffix, string target) => new("layer",
        TransferResource.UrlTar(proxy, repository, $"layer-@v{suffix}"),
        TransferResource.Directory(target, "layer-@v"));
}
