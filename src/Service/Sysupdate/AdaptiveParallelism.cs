using SysextFunctions.Registry;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// Runs a listing's per-tag requests up to <c>Cache:ResolveParallelism</c> at once, and slows down when the
/// registry pushes back: a 429, or a 503 with <c>Retry-After</c>, halves the number in flight (once per burst),
/// waits what the registry asked (or a short backoff) and retries that tag; every run of successes as long as the
/// limit earns one slot back, up to the maximum. Additive increase, multiplicative decrease, as TCP does. A registry
/// that asks for a longer pause than <see cref="MaxWait"/>, or keeps refusing, fails the listing as before (the
/// client hears 503 with the registry's <c>Retry-After</c>).
/// </summary>
internal sealed class AdaptiveParallelism
{
    public const int MaxAttempts = 4;
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _slots;
    private readonly int _max;
    private int _limit;
    private int _debt;
    private int _streak;
    private int _generation;

    private AdaptiveParallelism(int max)
    {
        _max = Math.Max(max, 1);
        _limit = _max;
        _slots = new SemaphoreSlim(_max, int.MaxValue);
    }

    /// <summary>Runs <paramref name="body"/> for 0 … <paramref name="count"/>-1; the first failure cancels the rest and is thrown.</summary>
    public static async Task ForEachAsync(int count, int maxParallelism, Func<int, CancellationToken, Task> body, CancellationToken cancellationToken = default)
    {
        var limiter = new AdaptiveParallelism(maxParallelism);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => limiter.RunAsync(i, body, failed))).ConfigureAwait(false);
    }

    private async Task RunAsync(int index, Func<int, CancellationToken, Task> body, CancellationTokenSource failed)
    {
        var cancellationToken = failed.Token;
        for (var attempt = 1; ; attempt++)
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                // A slot freed by a failure can reach a waiter before its cancellation does: hand it on unused.
                Release();
                cancellationToken.ThrowIfCancellationRequested();
            }

            int generation;
            lock (_gate)
            {
                generation = _generation;
            }

            TimeSpan wait;
            try
            {
                await body(index, cancellationToken).ConfigureAwait(false);
                Succeeded();
                return;
            }
            catch (RegistryException e) when (IsPushBack(e) && attempt < MaxAttempts && Backoff(e, attempt) is { } backoff)
            {
                Throttled(generation);
                wait = backoff;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await failed.CancelAsync().ConfigureAwait(false);
                throw;
            }
            finally
            {
                Release();
            }

            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>429, or a 503 that says when to come back: the registry is busy, not broken.</summary>
    private static bool IsPushBack(RegistryException e) =>
        e.Failure == RegistryFailure.Throttled || (e.Failure == RegistryFailure.Unavailable && e.RetryAfter is not null);

    private static TimeSpan? Backoff(RegistryException e, int attempt)
    {
        var wait = e.RetryAfter ?? FirstBackoff * (1 << (attempt - 1));
        return wait <= MaxWait ? (wait > TimeSpan.Zero ? wait : FirstBackoff) : null;
    }

    private void Throttled(int generation)
    {
        lock (_gate)
        {
            _streak = 0;
            // Every request of a burst hears the same 429: cut once per burst, not once per request.
            if (generation != _generation || _limit == 1)
            {
                return;
            }

            _generation++;
            var halved = _limit / 2;
            _debt += _limit - halved;
            _limit = halved;
        }
    }

    private void Succeeded()
    {
        lock (_gate)
        {
            if (++_streak < _limit || _limit >= _max)
            {
                return;
            }

            _streak = 0;
            _limit++;
            if (_debt > 0)
            {
                _debt--;
            }
            else
            {
                _slots.Release();
            }
        }
    }

    private void Release()
    {
        lock (_gate)
        {
            if (_debt > 0)
            {
                _debt--;
                return;
            }
        }

        _slots.Release();
    }
}
