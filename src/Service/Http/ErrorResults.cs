using Microsoft.AspNetCore.Http;
using SysextFunctions.Registry;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Http;

/// <summary>The one place failures become HTTP statuses: a short plain-text reason, never a stack trace.</summary>
public static class ErrorResults
{
    /// <summary>
    /// Never stored (RFC 9111 §5.2.2.5): a registry hiccup cached by a CDN would outlive the hiccup, and a 404 for a
    /// tag about to be pushed would hide it.
    /// </summary>
    public static IResult Text(int status, string reason) =>
        HttpCaching.With("no-store", Results.Text(reason + "\n", "text/plain; charset=utf-8", statusCode: status));

    public static IResult From(PathFailure failure, string reason) => Text(
        failure switch
        {
            PathFailure.TooLong => StatusCodes.Status414UriTooLong,
            PathFailure.NotFound => StatusCodes.Status404NotFound,
            _ => StatusCodes.Status400BadRequest,
        },
        reason);

    /// <summary>What the registry's failure means to our client: 404, 503 (with Retry-After), 504 or 502. As YARP maps its ForwarderError, once, here.</summary>
    public static IResult From(RegistryException e)
    {
        var status = e.Failure switch
        {
            RegistryFailure.NotFound => StatusCodes.Status404NotFound,
            RegistryFailure.Timeout => StatusCodes.Status504GatewayTimeout,
            RegistryFailure.Throttled => StatusCodes.Status503ServiceUnavailable,
            _ => StatusCodes.Status502BadGateway,
        };

        var text = Text(status, e.Message);
        return e is { Failure: RegistryFailure.Throttled, RetryAfter: { } delay } ? new WithRetryAfter(text, delay) : text;
    }

    private sealed class WithRetryAfter(IResult inner, TimeSpan delay) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(delay.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
