using System.Net;
using SysextFunctions.FunctionsHost.Rpc;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Worker;

/// <summary>
/// The built worker under the Functions host emulator: the protocol as the host speaks it, and what the worker
/// answers in its <c>InvocationResponse</c>s.
/// </summary>
[Collection(RegistryCollection.Name)]
public class FunctionsHostTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);

    [Fact]
    public async Task Start_BuiltWorker_ReportsHttpUriAndLoadsTheCatchAllFunction()
    {
        await using var functions = await FunctionsHostServer.StartAsync(registry.Url);

        var function = Assert.Single(functions.Emulator.Functions);
        Assert.Equal("SysextFunction", function.Metadata.Name);
        Assert.Equal("{*path}", function.Template);
        Assert.Equal("localhost", functions.Emulator.WorkerHttpUri.Host);
        Assert.NotEqual(functions.Url.Port, functions.Emulator.WorkerHttpUri.Port);
    }

    [Fact]
    public async Task Invocation_ChecksumsAndFile_ResponseCarriesNoReturnValue()
    {
        var content = Payloads.Random(64 * 1024, 3);
        await _pusher.PushOrasArtifactAsync("functions/result/hello", "v1", "hello-v1.raw", content);
        await using var functions = await FunctionsHostServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = "stream" });
        using var client = functions.CreateClient();

        using var listed = await client.GetAsync("/functions/result/hello/SHA256SUMS");
        Assert.True(listed.IsSuccessStatusCode, $"{listed.StatusCode}: {await listed.Content.ReadAsStringAsync()}\n{functions.Log.Describe()}");
        var list = await listed.Content.ReadAsStringAsync();
        var file = await client.GetByteArrayAsync("/functions/result/hello/hello-v1.raw");
        using var missing = await client.GetAsync("/functions/result/hello/hello-v9.raw");

        Assert.Contains("hello-v1.raw", list, StringComparison.Ordinal);
        Assert.Equal(content, file);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        await functions.AssertEveryInvocationSucceededAsync();
        var invocations = functions.Emulator.Invocations;
        Assert.Equal(3, invocations.Count);
        // The IResult ran in the worker and its response went out over HTTP; the worker must not also serialize
        // it (for SHA256SUMS: the whole list) into the response to the host.
        Assert.All(invocations, i => Assert.True(i.ReturnValue is null || i.ReturnValue.DataCase == TypedData.DataOneofCase.None, $"{i}: return_value {i.ReturnValue}"));
        Assert.All(invocations, i => Assert.All(i.OutputData, o => Assert.True(o.Data is null || o.Data.DataCase == TypedData.DataOneofCase.None, $"{i}: output {o}")));
    }
}
