using SysextFunctions.FunctionsHost.Rpc;
using Yarp.ReverseProxy.Forwarder;

namespace SysextFunctions.FunctionsHost;

/// <summary>One invocation as the host saw it: the request, how forwarding ended, and the worker's answer.</summary>
/// <param name="Status">The worker's <c>InvocationResponse</c> status; <c>Failure</c> when none came.</param>
/// <param name="Error">The worker's exception, or why there is no response; null on success.</param>
/// <param name="ReturnValue">What the function returned, as the worker serialized it into the response.</param>
/// <param name="OutputData">The output bindings the worker sent back.</param>
public sealed record InvocationRecord(
    string InvocationId,
    string Method,
    string Target,
    int ResponseStatus,
    ForwarderError ForwarderError,
    StatusResult.Types.Status Status,
    string? Error,
    TypedData? ReturnValue,
    IReadOnlyList<ParameterBinding> OutputData)
{
    public bool Succeeded => Status == StatusResult.Types.Status.Success && ForwarderError == ForwarderError.None;

    public override string ToString() =>
        $"{Method} {Target} -> {ResponseStatus}, invocation {InvocationId}: {Status}, forwarding {ForwarderError}{(Error is null ? "" : $": {Error}")}";
}
