using System.Collections.Concurrent;
using Grpc.Core;
using SysextFunctions.FunctionsHost.Rpc;

namespace SysextFunctions.FunctionsHost;

/// <summary>
/// The host's end of one worker's <c>EventStream</c>: writes are serialized (a gRPC stream takes one at a time),
/// and each answer the host waits for (init, metadata, a load, an invocation) completes its own pending task.
/// </summary>
internal sealed class WorkerChannel(string workerId, ILogger logger)
{
    /// <summary>What ASP.NET Core's lifetime logger says once Kestrel listens (<c>GenericWebHostService</c>).</summary>
    private const string LifetimeCategory = "Microsoft.Hosting.Lifetime";
    private const string ListeningPrefix = "Now listening on: ";

    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Uri> _httpListening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> _pending = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private IServerStreamWriter<StreamingMessage>? _writer;

    /// <summary>Completes when the worker has opened the stream with a <c>StartStream</c> carrying its id.</summary>
    public Task Started => _started.Task;

    /// <summary>
    /// Completes with the address of the worker's own Kestrel once it logs <c>Now listening on: ...</c> (an
    /// <c>RpcLog</c>), i.e. once a request forwarded to its <c>HttpUri</c> can connect.
    /// </summary>
    public Task<Uri> HttpListening => _httpListening.Task;

    /// <summary>Serves the stream until the worker or the emulator ends it.</summary>
    public async Task RunAsync(IAsyncStreamReader<StreamingMessage> reader, IServerStreamWriter<StreamingMessage> writer, CancellationToken cancellationToken)
    {
        if (!await reader.MoveNext(cancellationToken))
        {
            return;
        }

        if (reader.Current.StartStream?.WorkerId != workerId)
        {
            throw new Grpc.Core.RpcException(new Status(StatusCode.InvalidArgument, $"expected StartStream from worker {workerId}, got {reader.Current}"));
        }

        _writer = writer;
        _started.TrySetResult();
        try
        {
            while (await reader.MoveNext(cancellationToken))
            {
                Dispatch(reader.Current);
            }
        }
        finally
        {
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new IOException("the worker's stream ended"));
            }
        }
    }

    /// <summary>Registers interest in the answer under <paramref name="key"/> before the request is sent.</summary>
    public Task<StreamingMessage> Expect(string key)
    {
        var source = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.TryAdd(key, source))
        {
            throw new InvalidOperationException($"already waiting for {key}");
        }

        return source.Task;
    }

    public void Forget(string key) => _pending.TryRemove(key, out _);

    public async Task SendAsync(StreamingMessage message, CancellationToken cancellationToken = default)
    {
        var writer = _writer ?? throw new InvalidOperationException("the worker has not opened its stream");
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await writer.WriteAsync(message, cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public static string InvocationKey(string invocationId) => "invocation:" + invocationId;

    public static string LoadKey(string functionId) => "load:" + functionId;

    public const string InitKey = "init";

    public const string MetadataKey = "metadata";

    private void Dispatch(StreamingMessage message)
    {
        var key = message.ContentCase switch
        {
            StreamingMessage.ContentOneofCase.WorkerInitResponse => InitKey,
            StreamingMessage.ContentOneofCase.FunctionMetadataResponse => MetadataKey,
            StreamingMessage.ContentOneofCase.FunctionLoadResponse => LoadKey(message.FunctionLoadResponse.FunctionId),
            StreamingMessage.ContentOneofCase.InvocationResponse => InvocationKey(message.InvocationResponse.InvocationId),
            _ => null,
        };

        if (message.ContentCase == StreamingMessage.ContentOneofCase.RpcLog)
        {
            var log = message.RpcLog;
            if (log.Category == LifetimeCategory && log.Message.StartsWith(ListeningPrefix, StringComparison.Ordinal)
                && Uri.TryCreate(log.Message[ListeningPrefix.Length..].Trim(), UriKind.Absolute, out var listening))
            {
                _httpListening.TrySetResult(listening);
            }

            var level = (LogLevel)(int)log.Level;
            if (logger.IsEnabled(level))
            {
#pragma warning disable CA1848, CA2254 // The worker's own messages, passed on as they came.
                logger.Log(level, "[worker {Category}] {Message}{Exception}", log.Category, log.Message,
                    log.Exception is null ? "" : $"\n{log.Exception.Message}\n{log.Exception.StackTrace}");
#pragma warning restore CA1848, CA2254
            }

            return;
        }

        if (key is not null && _pending.TryRemove(key, out var pending))
        {
            pending.TrySetResult(message);
        }
    }
}
