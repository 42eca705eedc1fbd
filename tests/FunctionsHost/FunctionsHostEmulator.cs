using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SysextFunctions.FunctionsHost.Rpc;
using Yarp.ReverseProxy.Forwarder;

namespace SysextFunctions.FunctionsHost;

/// <summary>
/// What the Azure Functions host does for an isolated .NET worker with ASP.NET Core integration, as far as an
/// HTTP-only app needs it: start the worker, initialize it and load its functions over <c>FunctionRpc</c>, and
/// for each HTTP request send an <c>InvocationRequest</c> while forwarding the request itself to the worker's
/// <c>HttpUri</c> with YARP's <see cref="IHttpForwarder"/>, the invocation id in <c>x-ms-invocation-id</c>.
/// Every invocation is recorded; one that does not end in success is logged as an error.
/// </summary>
public sealed partial class FunctionsHostEmulator : IAsyncDisposable
{
    public const string HostVersion = "4.0.0-sysext-emulator";

    private const string CorrelationHeader = "x-ms-invocation-id";

    private readonly ConcurrentQueue<InvocationRecord> _invocations = new();
    private readonly EmulatorOptions _options;
    private readonly ILogger _logger;
    private readonly WorkerChannel _channel;
    private readonly WebApplication _rpc;
    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ActivityHeadersPropagator = null,
        ConnectTimeout = TimeSpan.FromSeconds(15),
    });

    private readonly Lock _inFlightLock = new();

    private WorkerProcess? _worker;
    private WebApplication? _front;
    private IHttpForwarder? _forwarder;
    private IReadOnlyList<HttpFunction> _functions = [];
    private Uri? _httpUri;
    private bool _requiresRouteParameters;
    private bool _handlesCancel;
    private int _inFlight;
    private TaskCompletionSource _idle = Idle();

    private FunctionsHostEmulator(EmulatorOptions options, ILoggerFactory loggerFactory)
    {
        _options = options;
        _logger = loggerFactory.CreateLogger("FunctionsHost");
        WorkerId = Guid.NewGuid().ToString();
        _channel = new WorkerChannel(WorkerId, loggerFactory.CreateLogger("Worker"));

        var rpc = WebApplication.CreateSlimBuilder();
        rpc.Logging.ClearProviders();
        rpc.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        rpc.Services.AddGrpc(o => (o.MaxReceiveMessageSize, o.MaxSendMessageSize) = (null, null));
        rpc.Services.AddSingleton(_channel);
        _rpc = rpc.Build();
        _rpc.MapGrpcService<FunctionRpcService>();
    }

    public string WorkerId { get; }

    /// <summary>Where the HTTP front listens (the first address).</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Where the worker's own Kestrel listens, as it reported in <c>WorkerInitResponse</c>.</summary>
    public Uri WorkerHttpUri => _httpUri!;

    public int WorkerProcessId => _worker!.Id;

    public IReadOnlyList<HttpFunction> Functions => _functions;

    /// <summary>Every finished invocation, in the order they finished.</summary>
    public IReadOnlyList<InvocationRecord> Invocations => [.. _invocations];

    /// <summary>The invocations that did not end with a success <c>InvocationResponse</c> and clean forwarding.</summary>
    public IReadOnlyList<InvocationRecord> Failures => [.. _invocations.Where(i => !i.Succeeded)];

    /// <summary>Completes when the worker process exits (it should only when we stop it).</summary>
    public Task WorkerExited => _worker!.Exited;

    /// <summary>Starts the worker and the front, and returns once the worker has loaded its functions.</summary>
    public static async Task<FunctionsHostEmulator> StartAsync(EmulatorOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var emulator = new FunctionsHostEmulator(options, loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        try
        {
            await emulator.StartWorkerAsync(cancellationToken);
            await emulator.StartFrontAsync(cancellationToken);
            return emulator;
        }
        catch
        {
            await emulator.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until no request is being handled, so that <see cref="Invocations"/> holds them all.</summary>
    /// <param name="timeout">An upper bound (default 30 s), past which it fails naming how many are still running.</param>
    public async Task WhenIdleAsync(TimeSpan? timeout = null)
    {
        Task idle;
        lock (_inFlightLock)
        {
            idle = _idle.Task;
        }

        try
        {
            await idle.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{Volatile.Read(ref _inFlight)} invocations still running", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_worker is not null)
        {
            await _worker.DisposeAsync();
        }

        if (_front is not null)
        {
            await _front.StopAsync();
            await _front.DisposeAsync();
        }

        await _rpc.StopAsync();
        await _rpc.DisposeAsync();
        _invoker.Dispose();
    }

    private async Task StartWorkerAsync(CancellationToken cancellationToken)
    {
        var appDirectory = Path.GetFullPath(_options.AppDirectory);
        await _rpc.StartAsync(cancellationToken);
        var rpcUri = new Uri(_rpc.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        _worker = WorkerProcess.Start(_options, rpcUri, WorkerId, _logger);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.StartTimeout);
        await WhileWorkerRunsAsync(_channel.Started, "open its stream", timeout.Token);

        var initResponse = _channel.Expect(WorkerChannel.InitKey);
        await _channel.SendAsync(new StreamingMessage
        {
            RequestId = Guid.NewGuid().ToString(),
            WorkerInitRequest = new WorkerInitRequest
            {
                HostVersion = HostVersion,
                WorkerDirectory = appDirectory,
                FunctionAppDirectory = appDirectory,
            },
        }, timeout.Token);
        var init = (await WhileWorkerRunsAsync(initResponse, "answer WorkerInitRequest", timeout.Token)).WorkerInitResponse;
        Require(init.Result, "WorkerInitResponse");
        if (!init.Capabilities.TryGetValue("HttpUri", out var httpUri) || !Uri.TryCreate(httpUri, UriKind.Absolute, out _httpUri))
        {
            throw new InvalidOperationException($"the worker reported no HttpUri capability (is ASP.NET Core integration configured?): {init.Capabilities}");
        }

        _requiresRouteParameters = init.Capabilities.ContainsKey("RequiresRouteParameters");
        _handlesCancel = init.Capabilities.ContainsKey("HandlesInvocationCancelMessage");
        Log.WorkerInitialized(_logger, _httpUri, init.Capabilities.ToString());

        var metadataResponse = _channel.Expect(WorkerChannel.MetadataKey);
        await _channel.SendAsync(new StreamingMessage
        {
            RequestId = Guid.NewGuid().ToString(),
            FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = appDirectory },
        }, timeout.Token);
        var metadata = (await WhileWorkerRunsAsync(metadataResponse, "answer FunctionsMetadataRequest", timeout.Token)).FunctionMetadataResponse;
        Require(metadata.Result, "FunctionMetadataResponse");
        if (metadata.UseDefaultMetadataIndexing)
        {
            throw new InvalidOperationException("the worker asked the host to index functions.metadata itself; this emulator only does worker indexing");
        }

        var routePrefix = HttpFunction.ReadRoutePrefix(appDirectory);
        var functions = new List<HttpFunction>();
        foreach (var function in metadata.FunctionMetadataResults)
        {
            Require(function.Status, $"indexing of {function.Name}");
            if (string.IsNullOrEmpty(function.FunctionId))
            {
                function.FunctionId = Guid.NewGuid().ToString();
            }

            var loaded = _channel.Expect(WorkerChannel.LoadKey(function.FunctionId));
            await _channel.SendAsync(new StreamingMessage
            {
                RequestId = Guid.NewGuid().ToString(),
                FunctionLoadRequest = new FunctionLoadRequest { FunctionId = function.FunctionId, Metadata = function },
            }, timeout.Token);
            Require((await WhileWorkerRunsAsync(loaded, $"load {function.Name}", timeout.Token)).FunctionLoadResponse.Result, $"FunctionLoadResponse for {function.Name}");
            if (HttpFunction.From(function, routePrefix) is { } http)
            {
                functions.Add(http);
                Log.FunctionLoaded(_logger, function.Name, http.Methods is null ? "*" : string.Join(',', http.Methods), "/" + http.Template);
            }
        }

        // The worker may report its HttpUri before its Kestrel listens there: requests are forwarded only once it
        // has said that it listens (the real host retries refused connections instead).
        var listening = await WhileWorkerRunsAsync(_channel.HttpListening, $"log \"Now listening on: {_httpUri}\"", timeout.Token);
        if (listening != _httpUri)
        {
            throw new InvalidOperationException($"the worker listens on {listening}, not on the HttpUri it reported, {_httpUri}");
        }

        _functions = functions;
    }

    /// <summary>Completed: nothing in flight.</summary>
    private static TaskCompletionSource Idle()
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        idle.SetResult();
        return idle;
    }
}
