using Grpc.Core;
using SysextFunctions.FunctionsHost.Rpc;

namespace SysextFunctions.FunctionsHost;

/// <summary>The gRPC endpoint the worker dials (<c>--functions-uri</c>); the stream is handed to its channel.</summary>
internal sealed class FunctionRpcService(WorkerChannel channel) : FunctionRpc.FunctionRpcBase
{
    public override Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context) =>
        channel.RunAsync(requestStream, responseStream, context.CancellationToken);
}
