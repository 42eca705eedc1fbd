using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace SysextFunctions.Http;

/// <summary>
/// The Azure Functions adapter: one catch-all trigger, because Functions routes cannot put a catch-all before a
/// literal segment (<c>{*repository}/SHA256SUMS</c>). The path is parsed by the handler. Every method reaches it,
/// as under the standalone host, so that a POST gets the handler's 405 rather than the Functions host's 404.
/// Anonymous on purpose: sysupdate cannot send keys or headers; exposure is controlled by the repository
/// mapping and network rules.
/// </summary>
public sealed class SysextFunction(SysextHandler handler)
{
    [Function(nameof(SysextFunction))]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, Route = "{*path}")] HttpRequest request) =>
        handler.HandleAsync(request.HttpContext);
}
