using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Remote;

namespace SysextFunctions.Upstreams;

/// <summary>The <c>Registry:Resilience</c> configuration section.</summary>
public sealed class RegistryResilienceOptions
{
    public const string Section = "Registry:Resilience";

    /// <summary>Retries of a failed idempotent metadata request (tags, manifests, HEAD, tokens); 0 turns retries off.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>The first backoff; later ones grow exponentially, with jitter.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How long one metadata attempt may take before it counts as failed (and is retried); reaches the pipeline
    /// through each upstream's <see cref="UpstreamTimeouts.Attempt"/>.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the circuit stays open, answering 503 at once, after too many failures.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The share of failed metadata requests in <see cref="SamplingDuration"/> that opens the circuit.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>The fewest requests in <see cref="SamplingDuration"/> before the circuit can open.</summary>
    public int MinimumThroughput { get; set; } = 10;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Retries with backoff and jitter, a circuit breaker and per-attempt timeouts for registry requests, through
/// Microsoft.Extensions.Http.Resilience. Only metadata is guarded this way: a blob request (marked by
/// <see cref="RegistryClient.BlobRequest"/>) gets a pass-through pipeline, so a long blob body is never cut by an
/// attempt timeout and nothing is retried once bytes may have reached a client. The overall wait for headers stays
/// <see cref="UpstreamTimeouts.Response"/>, enforced by <see cref="RegistryClient"/> around the whole pipeline.
/// </summary>
public static class RegistryResilience
{
    private const string BlobPipeline = "blob";
    private const string MetadataPipeline = "metadata";

    /// <param name="upstream">The id of the upstream whose <see cref="UpstreamTimeouts"/> bound each attempt.</param>
    public static IHttpClientBuilder AddRegistryResilience(this IHttpClientBuilder builder, string upstream)
    {
        builder.Services.TryAddTransient<ResilienceFailures>();

        // Outermost, so that what the pipeline throws becomes a RegistryException the HTTP edge maps once.
        builder.AddHttpMessageHandler<ResilienceFailures>();
        builder.AddResilienceHandler("registry", (pipeline, context) => Configure(pipeline, context, upstream))
            // One pipeline (and circuit) per registry host and kind; host names are not secret.
            .SelectPipelineBy(_ => request =>
                $"{(request.Options.TryGetValue(RegistryClient.BlobRequest, out var blob) && blob ? BlobPipeline : MetadataPipeline)}:{request.RequestUri?.Authority}");
        return builder;
    }

    private static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ResilienceHandlerContext context, string upstream)
    {
        if (context.InstanceName.StartsWith(BlobPipeline, StringComparison.Ordinal))
        {
            return;
        }

        var options = context.ServiceProvider.GetRequiredService<IOptions<RegistryResilienceOptions>>().Value;
        if (options.MaxRetries > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                // A throttling registry's Retry-After is passed on to the client (503), not slept on here.
                ShouldRetryAfterHeader = false,
                ShouldHandle = args => ValueTask.FromResult(IsIdempotent(args.Context) && IsTransient(args.Outcome)),
            });
        }

        pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = options.FailureRatio,
            MinimumThroughput = options.MinimumThroughput,
            SamplingDuration = options.SamplingDuration,
            BreakDuration = options.BreakDuration,
            ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
        });
        pipeline.AddTimeout(context.ServiceProvider.GetRequiredKeyedService<UpstreamTimeouts>(upstream).Attempt);
    }

    private static bool IsIdempotent(ResilienceContext context) =>
        context.GetRequestMessage()?.Method is { } method && (method == HttpMethod.Get || method == HttpMethod.Head);

    /// <summary>Connection failures, attempt timeouts and 5xx/408. 429 is not transient here: the client is told to wait.</summary>
    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is HttpRequestException or TimeoutRejectedException
        || outcome.Result is { StatusCode: HttpStatusCode.RequestTimeout or >= HttpStatusCode.InternalServerError and not HttpStatusCode.NotImplemented };

    /// <summary>Turns what the pipeline throws into the failures <see cref="RegistryClient"/> reports.</summary>
    private sealed class ResilienceFailures(IOptions<RegistryResilienceOptions> options) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutRejectedException e)
            {
                // No URL in the text: a redirected storage URL can carry a signature in its query.
                throw new RegistryException(RegistryFailure.Timeout, "registry did not answer in time", e);
            }
            catch (BrokenCircuitException e)
            {
                throw new RegistryException(RegistryFailure.Throttled, "registry is failing; requests are paused for a moment", e)
                {
                    RetryAfter = options.Value.BreakDuration,
                };
            }
        }
    }
}
