using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using SysextFunctions.Http;
using SysextFunctions.Registry;

namespace SysextFunctions.Tests.Unit.Service.Http;

public class ErrorResultsTests
{
    [Theory]
    [InlineData(RegistryFailure.NotFound, 404)]
    [InlineData(RegistryFailure.Unavailable, 502)]
    [InlineData(RegistryFailure.InvalidResponse, 502)]
    [InlineData(RegistryFailure.Denied, 502)]
    [InlineData(RegistryFailure.Timeout, 504)]
    [InlineData(RegistryFailure.Throttled, 503)]
    public async Task From_MapsFailureToStatus(RegistryFailure failure, int status)
    {
        var context = await ExecuteAsync(ErrorResults.From(new RegistryException(failure, "what went wrong")));

        Assert.Equal(status, context.Response.StatusCode);
        Assert.StartsWith("text/plain", context.Response.ContentType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task From_ThrottledWithDelay_SetsRetryAfter()
    {
        var context = await ExecuteAsync(ErrorResults.From(new RegistryException(RegistryFailure.Throttled, "slow down") { RetryAfter = TimeSpan.FromSeconds(7.2) }));

        Assert.Equal("8", context.Response.Headers.RetryAfter.ToString());
    }

    private static async Task<HttpContext> ExecuteAsync(IResult result)
    {
        var context = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(NullLogger<>)).AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory, NullLoggerFactory>().BuildServiceProvider(),
        };
        context.Response.Body = new MemoryStream();
        await result.ExecuteAsync(context);
        return context;
    }
}
