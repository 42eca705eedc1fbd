using Microsoft.AspNetCore.Http;
using SysextFunctions.Registry;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Http;

/// <summary>The one place failures become HTTP statuses: a short plain-text reason, never a stack trace.</summary>
public static class ErrorResults
{
    /// <summary>
    /// A short plain-text reason on one line. Never stored: <see cref="HttpCaching"/> gives every 4xx and 5xx
    /// <c>no-store</c> as the response starts.
    /// </summary>
    public static IResult Text(int status, string reason) =>
        Results.Text(OneLine(reason) + "\n", "text/plain; charset=utf-8", statusCode: status);

    /// <summary>The last resort: what an unexpected exception becomes, with nothing of the exception in it.</summary>
    public static IResult Unexpected() => Text(StatusCodes.Status500InternalServerError, "internal error");

    /// <summary>A reason may carry text from outside (a registry's): control characters never reach the client.</summary>
    private static string OneLine(string reason) => LogText.Escape(reason);

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
