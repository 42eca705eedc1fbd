using System.Security.Cryptography;
using SysextFunctions.FunctionsHost.Rpc;
using SysextFunctions.Tests.Support;
using Yarp.ReverseProxy.Forwarder;

namespace SysextFunctions.Tests.Integration.Worker;

/// <summary>
/// A 256 MiB blob through the whole Functions path: registry, a counting relay, the worker, the host emulator's
/// forwarding, the client. Streamed, never held: the worker's memory must not grow by anything like the blob, and
/// a client that goes away halfway must stop the worker's read from the registry.
/// </summary>
[Collection(RegistryCollection.Name)]
public class FunctionsBigBlobTests(RegistryServer registry, ITestOutputHelper output)
{
    private const int Size = 256 * 1024 * 1024;

    /// <summary>Well below the blob: a worker that buffered it would grow by at least 256 MiB.</summary>
    private const long MaxGrowth = 96L * 1024 * 1024;

    [Fact]
    public async Task Blob256MiB_StreamedByteExactInBoundedMemory_AbandonedDownloadStopsUpstreamRead()
    {
        string expected;
        {
            var content = Payloads.Random(Size, 256);
            expected = Convert.ToHexStringLower(SHA256.HashData(content));
            await new OciPusher(registry.Url).PushOrasArtifactAsync("functions/big/image", "v1", "image-v1.raw", content);
        }

        await using var relay = await CountingRelay.StartAsync(registry.Url);
        await using var functions = await FunctionsHostServer.StartAsync(relay.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = "stream" });
        using var client = functions.CreateClient();
        client.Timeout = TimeSpan.FromMinutes(5);
        // Warm: the list, a HEAD, the manifest cached, the code paths jitted.
        Assert.Contains("image-v1.raw", await client.GetStringAsync("/functions/big/image/SHA256SUMS"), StringComparison.Ordinal);
        using (var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/functions/big/image/image-v1.raw")))
        {
            Assert.Equal(Size, head.Content.Headers.ContentLength);
        }

        var before = WorkerMemory(functions);

        var (length, hash) = await DownloadAsync(client, stopAfter: null);
        var after = WorkerMemory(functions);

        output.WriteLine($"worker memory: {before.Resident >> 20} MiB resident before, {after.Resident >> 20} MiB after, {after.Peak >> 20} MiB peak");
        Assert.Equal(Size, length);
        Assert.Equal(expected, hash);
        Assert.True(after.Peak - before.Resident < MaxGrowth, $"worker memory grew from {before.Resident >> 20} MiB resident to a {after.Peak >> 20} MiB peak");
        await functions.AssertEveryInvocationSucceededAsync();

        var relayedBefore = relay.Requests.Count;
        var (partial, _) = await DownloadAsync(client, stopAfter: Size / 2);
        var upstream = Assert.Single(relay.Requests.Skip(relayedBefore), r => r.Target.Contains("/blobs/", StringComparison.Ordinal));

        Assert.True(partial >= Size / 2, $"read {partial}");
        Assert.True(await upstream.Abandoned.WaitAsync(TimeSpan.FromSeconds(30)), "the worker read the blob to its end after its client left");
        Assert.True(upstream.Bytes < Size, $"{upstream.Bytes} of {Size} bytes read from the registry");
        await functions.Emulator.WhenIdleAsync();
        // The host sees its client gone (YARP: ResponseBodyCanceled): a failed invocation, as the real host would
        // record it; the only one, and for that reason only. The worker's own answer depends on when it noticed:
        // a success if its last write went out first, else a cancellation, never another error.
        var abandoned = Assert.Single(functions.Emulator.Invocations.Skip(3));
        Assert.Equal([abandoned], functions.Emulator.Failures);
        Assert.Equal(ForwarderError.ResponseBodyCanceled, abandoned.ForwarderError);
        Assert.True(abandoned.Status == StatusResult.Types.Status.Success || abandoned.Error!.Contains("cancel", StringComparison.OrdinalIgnoreCase), $"{abandoned}\n{functions.Log.Describe()}");
    }

    /// <summary>Reads the blob (or its first <paramref name="stopAfter"/> bytes, then drops the connection), hashing as it goes.</summary>
    private static async Task<(long Length, string Hash)> DownloadAsync(HttpClient client, long? stopAfter)
    {
        using var response = await client.GetAsync("/functions/big/image/image-v1.raw", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[128 * 1024];
        long length = 0;
        int read;
        while ((stopAfter is null || length < stopAfter) && (read = await body.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            length += read;
        }

        return (length, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    private static (long Resident, long Peak) WorkerMemory(FunctionsHostServer functions)
    {
        var status = File.ReadAllLines($"/proc/{functions.Emulator.WorkerProcessId}/status");
        long Kib(string name) => long.Parse(status.Single(l => l.StartsWith(name + ":", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        return (Kib("VmRSS"), Kib("VmHWM"));
    }
}
