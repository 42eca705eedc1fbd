using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace SysextFunctions.Http;

/// <summary>
/// With ASP.NET Core integration the worker runs the <see cref="IResult"/> our function returns against the
/// forwarded request, and the response goes out over HTTP. The worker then still serializes the returned object
/// into the <c>InvocationResponse</c> it sends the host (<c>return_value</c>): for SHA256SUMS the whole list,
/// base64, plus the internals of its ETag; for every request, work and gRPC traffic for nothing. Once the result
/// has run it is cleared, as the worker itself does for an <c>HttpResponseData</c>. Registered before
/// <c>ConfigureFunctionsWebApplication</c>, so it wraps the integration's middleware that runs the result.
/// </summary>
internal sealed class ExecutedResultMiddleware : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        await next(context);
        if (context.GetInvocationResult() is { Value: IResult } result)
        {
            result.Value = null;
        }
    }
}
