using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using SysextFunctions.FunctionsHost.Rpc;
using Yarp.ReverseProxy.Forwarder;

namespace SysextFunctions.FunctionsHost;

public sealed partial class FunctionsHostEmulator
{
    private async Task StartFrontAsync(CancellationToken cancellationToken)
    {
        var front = WebApplication.CreateSlimBuilder();
        front.Logging.ClearProviders();
        front.WebHost.UseUrls(_options.Urls);
        front.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        front.Services.AddHttpForwarder();
        _front = front.Build();
        _forwarder = _front.Services.GetRequiredService<IHttpForwarder>();
        _front.Run(HandleAsync);
        await _front.StartAsync(cancellationToken);
        var addresses = _front.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        Url = new Uri(addresses.First());
        Log.Listening(_logger, string.Join(", ", addresses));
    }

    private async Task HandleAsync(HttpContext context)
    {
        lock (_inFlightLock)
        {
            if (_inFlight++ == 0)
            {
                _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        try
        {
            await InvokeAsync(context);
        }
        finally
        {
            lock (_inFlightLock)
            {
                if (--_inFlight == 0)
                {
                    _idle.SetResult();
                }
            }
        }
    }

    private async Task InvokeAsync(HttpContext context)
    {
        var (function, routeValues) = _functions.Select(f => (f, v: f.Match(context.Request))).FirstOrDefault(m => m.v is not null);
        if (function is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var invocationId = Guid.NewGuid().ToString();
        var target = context.Request.Path.ToUriComponent() + context.Request.QueryString.ToUriComponent();
        var http = new RpcHttp();
        var request = new InvocationRequest
        {
            InvocationId = invocationId,
            FunctionId = function.FunctionId,
            TraceContext = new RpcTraceContext { TraceParent = TraceParent() },
            InputData = { new ParameterBinding { Name = function.BindingName, Data = new TypedData { Http = http } } },
        };
        foreach (var (name, value) in routeValues!)
        {
            if (value?.ToString() is { } text)
            {
                request.TriggerMetadata[name] = new TypedData { String = text };
                if (_requiresRouteParameters)
                {
                    http.Params[name] = text;
                }
            }
        }

        // As the host: the forwarding starts first, so the worker's HTTP side is on its way when the invocation lands.
        var response = _channel.Expect(WorkerChannel.InvocationKey(invocationId));
        context.Request.Headers[CorrelationHeader] = invocationId;
        var forwarding = _forwarder!.SendAsync(context, _httpUri!.AbsoluteUri, _invoker, new ForwarderRequestConfig { ActivityTimeout = _options.ActivityTimeout }).AsTask();
        await _channel.SendAsync(new StreamingMessage { InvocationRequest = request });
        await using var cancel = context.RequestAborted.Register(() =>
        {
            if (_handlesCancel)
            {
                _ = _channel.SendAsync(new StreamingMessage { InvocationCancel = new InvocationCancel { InvocationId = invocationId } });
            }
        });

        var forwarded = await forwarding;
        InvocationRecord record;
        try
        {
            var answer = (await response.WaitAsync(TimeSpan.FromMinutes(5))).InvocationResponse;
            var error = answer.Result.Status == StatusResult.Types.Status.Success ? null
                : $"{answer.Result.Exception?.Message}\n{answer.Result.Exception?.StackTrace}".Trim();
            record = new InvocationRecord(invocationId, context.Request.Method, target, context.Response.StatusCode, forwarded, answer.Result.Status, error, answer.ReturnValue, [.. answer.OutputData]);
        }
        catch (Exception e) when (e is TimeoutException or IOException)
        {
            _channel.Forget(WorkerChannel.InvocationKey(invocationId));
            record = new InvocationRecord(invocationId, context.Request.Method, target, context.Response.StatusCode, forwarded, StatusResult.Types.Status.Failure, $"no InvocationResponse: {e.Message}", null, []);
        }

        if (forwarded != ForwarderError.None && context.GetForwarderErrorFeature()?.Exception is { } forwardError)
        {
            record = record with { Error = $"{record.Error}\nforwarding: {forwardError.Message}".Trim() };
        }

        _invocations.Enqueue(record);
        if (record.Succeeded)
        {
            Log.InvocationDone(_logger, record);
        }
        else
        {
            Log.InvocationFailed(_logger, record);
        }
    }

    /// <summary>A W3C traceparent: the current activity's, or a fresh one as the host's request span would be.</summary>
    private static string TraceParent() =>
        Activity.Current?.Id is { } id && Activity.Current.IdFormat == ActivityIdFormat.W3C
            ? id
            : $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01";

    private static void Require(StatusResult? result, string what)
    {
        if (result is not null && result.Status != StatusResult.Types.Status.Success)
        {
            throw new InvalidOperationException($"{what}: {result.Status} {result.Result} {result.Exception?.Message}\n{result.Exception?.StackTrace}");
        }
    }

    /// <summary>Awaits <paramref name="task"/>, failing with the worker's output if it exits or time runs out first.</summary>
    private async Task<T> WhileWorkerRunsAsync<T>(Task<T> task, string what, CancellationToken cancellationToken)
    {
        await WhileWorkerRunsAsync((Task)task, what, cancellationToken);
        return await task;
    }

    private async Task WhileWorkerRunsAsync(Task task, string what, CancellationToken cancellationToken)
    {
        var worker = _worker!;
        try
        {
            var first = await Task.WhenAny(task, worker.Exited).WaitAsync(cancellationToken);
            if (first != task)
            {
                throw new InvalidOperationException($"the worker exited with {worker.ExitCode} before it would {what}\n{worker.Output}");
            }
        }
        catch (OperationCanceledException e)
        {
            throw new TimeoutException($"the worker did not {what} within {_options.StartTimeout}\n{worker.Output}", e);
        }
    }
}
