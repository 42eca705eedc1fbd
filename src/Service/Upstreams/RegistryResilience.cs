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

    /// <summary>
    /// Retries of a metadata request the registry pushed back on (429, 503): it is busy, not broken, so it gets
    /// more patience than a failure; 0 passes push-back straight on to the client.
    /// </summary>
    public int MaxPushBackRetries { get; set; } = 3;

    /// <summary>
    /// The longest <c>Retry-After</c> waited out here; a registry asking for a longer pause is not retried, and the
    /// client is told to come back then (503 with that <c>Retry-After</c>).
    /// </summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The first backoff; later ones grow exponentially, with jitter.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How long one metadata attempt may take before it counts as failed (and is retried); reaches the pipeline
    /// through each upstream's <see cref="UpstreamTimeouts.Attempt"/>.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the circuit stays open, answering 503 at once, after too many failures.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The share of failed metadata requests in <see cref="SamplingDuration"/> that opens the circuit of one
    /// registry host and repository group (push-back and 4xx do not count as failures).
    /// </summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>The fewest requests in <see cref="SamplingDuration"/> before the circuit can open.</summary>
    public int MinimumThroughput { get; set; } = 10;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The one owner of retries for registry requests, through Microsoft.Extensions.Http.Resilience: what is retried,
/// what is push-back, what the circuit breaker counts, and how long an attempt may take.
/// <list type="bullet">
/// <item>Failures (connection errors, attempt timeouts, 5xx, 408, a token service's 5xx) are retried
/// <see cref="RegistryResilienceOptions.MaxRetries"/> times with exponential backoff and jitter, and count for the
/// circuit breaker.</item>
/// <item>Push-back (429, 503) is retried <see cref="RegistryResilienceOptions.MaxPushBackRetries"/> times after the
/// registry's <c>Retry-After</c> (or the backoff when it names none), never longer than
/// <see cref="RegistryResilienceOptions.MaxRetryAfter"/>; each is reported to <see cref="RegistryPushBack"/>, which
/// narrows the listing that caused it. It never counts for the breaker: a registry that says "later" is working.</item>
/// <item>One circuit per registry host and repository group (<see cref="CircuitGroups"/> groups by the repository's
/// hash), so that one repository's failures pause neither the host nor most of its repositories, and a client
/// naming endless repositories cannot make endless circuits.</item>
/// </list>
/// Only metadata is guarded this way: a blob request (marked by <see cref="RegistryClient.BlobRequest"/>) gets a
/// pass-through pipeline, so a long blob body is never cut by an attempt timeout; <c>BlobStreamResult</c> resumes a
/// broken blob itself. The overall wait for headers stays <see cref="UpstreamTimeouts.Response"/>, enforced by
/// <see cref="RegistryClient"/> around the whole pipeline. Delays and timeouts run on the container's
/// <see cref="TimeProvider"/>, which Polly takes from it.
/// </summary>
public static class RegistryResilience
{
    /// <summary>How many circuits one registry host has at most: repositories share them by hash.</summary>
    public const int CircuitGroups = 64;

    private const string BlobPipeline = "blob";
    private const string MetadataPipeline = "metadata";

    /// <param name="upstream">The id of the upstream whose <see cref="UpstreamTimeouts"/> bound each attempt.</param>
    public static IHttpClientBuilder AddRegistryResilience(this IHttpClientBuilder builder, string upstream)
    {
        builder.Services.TryAddTransient<ResilienceFailures>();

        // Outermost, so that what the pipeline throws becomes a RegistryException the HTTP edge maps once.
        builder.AddHttpMessageHandler<ResilienceFailures>();
        builder.AddResilienceHandler("registry", (pipeline, context) => Configure(pipeline, context, upstream))
            // Host names and group numbers are not secret; repository names stay out of the key (and the telemetry).
            .SelectPipelineBy(_ => request => IsBlob(request)
                ? $"{BlobPipeline}:{request.RequestUri?.Authority}"
                : $"{MetadataPipeline}:{request.RequestUri?.Authority}:{CircuitGroup(request.RequestUri)}");
        return builder;
    }

    /// <summary>
    /// The circuit group of a registry URL: the repository's hash (FNV-1a) modulo <see cref="CircuitGroups"/>, so a
    /// repository always lands in the same one; URLs without a repository (<c>_catalog</c>, token realms) share one.
    /// </summary>
    public static int CircuitGroup(Uri? uri)
    {
        if (Repository(uri) is not { } repository)
        {
            return CircuitGroups;
        }

        var hash = 2166136261u;
        foreach (var c in repository)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % CircuitGroups);
    }

    /// <summary>The repository in <c>/v2/&lt;repository&gt;/{tags,manifests,blobs,referrers}/…</c> or <c>/acr/v1/&lt;repository&gt;/_tags</c>.</summary>
    private static string? Repository(Uri? uri)
    {
        if (uri is null || !uri.IsAbsoluteUri)
        {
            return null;
        }

        var path = uri.AbsolutePath;
        var (prefix, markers) = path.StartsWith("/v2/", StringComparison.Ordinal) ? ("/v2/", new[] { "/tags/", "/manifests/", "/blobs/", "/referrers/" })
            : path.StartsWith("/acr/v1/", StringComparison.Ordinal) ? ("/acr/v1/", new[] { "/_tags" })
            : (null, []);
        if (prefix is null)
        {
            return null;
        }

        var end = markers.Select(m => path.IndexOf(m, prefix.Length, StringComparison.Ordinal)).Where(i => i > prefix.Length).DefaultIfEmpty(-1).Min();
        return end < 0 ? null : path[prefix.Length..end];
    }

    private static bool IsBlob(HttpRequestMessage request) =>
        request.Options.TryGetValue(RegistryClient.BlobRequest, out var blob) && blob;

    private static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ResilienceHandlerContext context, string upstream)
    {
        if (context.InstanceName.StartsWith(BlobPipeline, StringComparison.Ordinal))
        {
            return;
        }

        var options = context.ServiceProvider.GetRequiredService<IOptions<RegistryResilienceOptions>>().Value;
        var time = context.ServiceProvider.GetRequiredService<TimeProvider>();
        var retries = Math.Max(options.MaxRetries, options.MaxPushBackRetries);
        if (retries > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = retries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                // The delay generator below reads Retry-After itself: also its date form, on our clock.
                ShouldRetryAfterHeader = false,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Context, args.Outcome, args.AttemptNumber, options, time)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome, time)),
                OnRetry = args =>
                {
                    if (IsPushBack(args.Outcome))
                    {
                        RegistryPushBack.Report();
                    }

                    return ValueTask.CompletedTask;
                },
            });
        }

        pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = options.FailureRatio,
            MinimumThroughput = options.MinimumThroughput,
            SamplingDuration = options.SamplingDuration,
            BreakDuration = options.BreakDuration,
            ShouldHandle = args => ValueTask.FromResult(IsFailure(args.Outcome)),
        });
        pipeline.AddTimeout(context.ServiceProvider.GetRequiredKeyedService<UpstreamTimeouts>(upstream).Attempt);
    }

    /// <param name="attempt">The attempt that just failed, from 0.</param>
    private static bool ShouldRetry(ResilienceContext context, Outcome<HttpResponseMessage> outcome, int attempt, RegistryResilienceOptions options, TimeProvider time)
    {
        if (!IsIdempotent(context))
        {
            return false;
        }

        if (IsPushBack(outcome))
        {
            // A registry that asks for a longer pause than we may wait is told to the client, not slept on here.
            return attempt < options.MaxPushBackRetries && (RetryAfter(outcome, time) ?? TimeSpan.Zero) <= options.MaxRetryAfter;
        }

        return attempt < options.MaxRetries && IsFailure(outcome);
    }

    /// <summary>The registry's <c>Retry-After</c> (seconds or a date), or null for the exponential backoff.</summary>
    private static TimeSpan? RetryAfter(Outcome<HttpResponseMessage> outcome, TimeProvider time) =>
        outcome.Result?.Headers.RetryAfter is { } retryAfter
            ? retryAfter.Delta ?? (retryAfter.Date is { } date ? TimeSpan.FromTicks(Math.Max(0, (date - time.GetUtcNow()).Ticks)) : null)
            : null;

    private static bool IsIdempotent(ResilienceContext context) =>
        context.GetRequestMessage()?.Method is { } method && (method == HttpMethod.Get || method == HttpMethod.Head);

    /// <summary>429 and 503 from the registry, or a token service that said 429: the other side is busy, not broken.</summary>
    private static bool IsPushBack(Outcome<HttpResponseMessage> outcome) =>
        outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable }
        || outcome.Exception is RegistryException { Failure: RegistryFailure.Throttled };

    /// <summary>
    /// Connection failures, attempt timeouts, 5xx other than 501 and 503, 408, and a token service's 5xx (which the
    /// auth handler inside this pipeline throws as Unavailable). Never a 4xx: a missing or refused manifest is an
    /// answer, and says nothing about the registry's health.
    /// </summary>
    private static bool IsFailure(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is HttpRequestException or TimeoutRejectedException or RegistryException { Failure: RegistryFailure.Unavailable or RegistryFailure.Timeout }
        || outcome.Result is { StatusCode: HttpStatusCode.RequestTimeout or >= HttpStatusCode.InternalServerError and not HttpStatusCode.NotImplemented and not HttpStatusCode.ServiceUnavailable };

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

/// <summary>
/// How the resilience pipeline tells a listing that the registry pushed back (429, 503), without a second retry
/// layer: a listener set for the current asynchronous flow (<see cref="Listen"/>, by AdaptiveParallelism around
/// each tag) hears every push-back the pipeline retries in that flow, and narrows the listing.
/// </summary>
public static class RegistryPushBack
{
    private static readonly AsyncLocal<Action?> Listener = new();

    /// <summary>Calls <paramref name="listener"/> on push-back within this flow until disposed.</summary>
    public static IDisposable Listen(Action listener)
    {
        var previous = Listener.Value;
        Listener.Value = listener;
        return new Restore(previous);
    }

    /// <summary>The registry pushed back on a request of the current flow.</summary>
    public static void Report() => Listener.Value?.Invoke();

    private sealed class Restore(Action? previous) : IDisposable
    {
        public void Dispose() => Listener.Value = previous;
    }
}
