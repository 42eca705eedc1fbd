using System.Diagnostics;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Sysupdate;

/// <summary>
/// The real systemd-pull 254 against our ETags. Without <c>--direct</c> (as <c>importctl</c>/<c>machinectl
/// pull-raw</c> run it), systemd-pull keeps a downloaded image under a name holding its URL and ETag, and sends
/// that ETag in <c>If-None-Match</c> the next time (src/import/pull-raw.c, pull_find_old_etags). sysupdate runs it
/// with <c>--direct</c>, which skips that search: sysupdate itself never sends <c>If-None-Match</c>, so it always
/// gets full answers and never meets a 304 (<see cref="Second_SysupdateUpdate_StillWorksWithCachingHeaders"/>).
/// </summary>
[Collection(RegistryCollection.Name)]
public class ConditionalPullTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);

    [Fact]
    public async Task SystemdPull_SecondPullOfSameFile_304WithoutBlobRequest()
    {
        var content = Payloads.Random(256 * 1024, 51);
        await _pusher.PushOrasArtifactAsync("e2e/conditional/pull", "v1", "pull.raw", content);
        var counts = new RequestCounts();
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = "stream" }, counts.Install());
        using var root = new TempDirectory();
        var url = new Uri(proxy.Url, "/e2e/conditional/pull/pull-v1.raw");

        var first = await PullAsync(url, root.Path, "first");
        var blobsAfterFirst = counts["GET blob"];
        var second = await PullAsync(url, root.Path, "second");

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(1, blobsAfterFirst);
        // The second pull sent the ETag of the first, got a 304 and copied its kept image: no blob from the registry.
        Assert.Contains("Image already downloaded", second.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, counts["GET blob"]);
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(root.Path, "first.raw")));
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(root.Path, "second.raw")));
    }

    [Fact]
    public async Task Second_SysupdateUpdate_StillWorksWithCachingHeaders()
    {
        var images = new Dictionary<string, byte[]>();
        foreach (var (version, seed) in new[] { ("v1", 52), ("v2", 53) })
        {
            images[version] = Payloads.Random(64 * 1024, seed);
            await _pusher.PushOrasArtifactAsync("e2e/conditional/hello", version, $"hello-{version}.raw", images[version]);
        }

        var counts = new RequestCounts();
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = "stream" }, counts.Install());
        using var dir = new TempDirectory();
        var target = dir.CreateDirectory("opt", "extensions", "hello");
        var definitions = await new Transfer("hello",
            TransferResource.UrlFile(proxy.Url, "e2e/conditional/hello", "hello-@v.raw"),
            TransferResource.RegularFile(target, "hello-@v.raw"))
        {
            InstancesMax = 3,
        }.WriteAsync(dir);

        var update = await SysupdateTool.RunAsync(definitions, "update");
        var again = await SysupdateTool.RunAsync(definitions, "update");
        var listed = await SysupdateTool.ListAsync(definitions);

        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal("current", listed["v2"]);
        Assert.Equal(images["v2"], await File.ReadAllBytesAsync(Path.Combine(target, "hello-v2.raw")));
        // The second update found v2 installed and fetched nothing but the list.
        Assert.Equal(1, counts["GET blob"]);
    }

    private static async Task<ProcessRun> PullAsync(Uri url, string imageRoot, string local)
    {
        ChildProcess.Require(SysupdateTool.Pull);
        var start = new ProcessStartInfo(SysupdateTool.Pull);
        foreach (var argument in (string[])["raw", "--verify=no", $"--image-root={imageRoot}", url.AbsoluteUri, local])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["LD_LIBRARY_PATH"] = SysupdateTool.LibraryDirectory;
        start.Environment["SYSTEMD_LOG_LEVEL"] = "info";
        start.Environment["SYSTEMD_COLORS"] = "0";
        return await ChildProcess.RunAsync(start, TimeSpan.FromMinutes(1));
    }
}
