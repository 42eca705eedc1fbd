using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Sysupdate;

/// <summary>
/// The newest systemd-sysupdate (262 keeps <c>.sysupdate.partial.&lt;file&gt;</c> after a download cut midway, and
/// then refuses every update until vacuumed) against a registry whose connection resets in the middle of the blob:
/// the server resumes with a Range request, so the client's one download succeeds and leaves no partial file.
/// </summary>
[Collection(RegistryCollection.Name)]
public class InterruptedDownloadTests(RegistryServer registry)
{
    private readonly Oras _oras = new(registry.Url);

    [Theory]
    [InlineData(Fault.CutShort)]
    [InlineData(Fault.StallBody)]
    public async Task Update_RegistryBreaksMidBlob_InstalledWholeNoPartialFile(Fault fault)
    {
        var sysupdate = SysupdateClient.Get(SysupdateClient.Newest);
        var repository = $"e2e/interrupted/{fault.ToString().ToLowerInvariant()}/tool";
        var image = Payloads.Random(2 * 1024 * 1024 + 3, 262);
        await _oras.PushAsync(repository, "v1-x86-64", "tool-v1-x86-64.raw", image);
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        relay.Applies = target => target.Contains("/blobs/", StringComparison.Ordinal);
        relay.Fault = fault;
        relay.Times = 1;
        await using var proxy = await ProxyServer.StartAsync(relay.Url, new Dictionary<string, string?>
        {
            ["Proxy:BlobDelivery"] = "stream",
            // A stall is given up on (and resumed) after this much silence, well within the client's ~60 s.
            ["Registry:Timeout"] = "00:00:05",
        });
        using var dir = new TempDirectory();
        var target = dir.CreateDirectory("opt", "extensions", "tool");
        var definitions = await new Transfer("tool",
            TransferResource.UrlFile(proxy.Url, repository, "tool-@v-%a.raw"),
            TransferResource.RegularFile(target, "tool-@v-%a.raw")).WriteAsync(dir);

        var update = await sysupdate.RunAsync(definitions, null, "update");

        Assert.True(update.ExitCode == 0, $"{update}\nthe proxy logged:\n{string.Join("\n", proxy.Log.GetSnapshot().Select(r => r.Message))}");
        Assert.Equal(image, await File.ReadAllBytesAsync(Path.Combine(target, "tool-v1-x86-64.raw")));
        Assert.Empty(Directory.GetFiles(target, ".sysupdate.partial.*"));
        // The fault happened, and was resumed with a Range request.
        Assert.Equal(2, relay.Requests.Count(r => r.Contains("/blobs/", StringComparison.Ordinal)));
        Assert.Single(relay.Ranges, r => r.StartsWith("bytes=", StringComparison.Ordinal));
    }
}
