namespace SysextFunctions.FunctionsHost;

/// <summary>
/// The worker reports its <c>HttpUri</c> before its Kestrel necessarily listens there, so the host retries a
/// forwarded request that could not be sent: up to 10 attempts, the delay doubling from 50 ms to at most 250 ms.
/// Only failures to send are retried; an answer, whatever its status, is passed on.
/// </summary>
internal sealed class RetryConnectHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private const int MaxAttempts = 10;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException) when (attempt < MaxAttempts)
            {
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 250));
            }
        }
    }
}
