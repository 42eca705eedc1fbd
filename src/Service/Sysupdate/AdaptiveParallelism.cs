using SysextFunctions.Upstreams;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// Runs a listing's per-tag requests up to <c>Cache:ResolveParallelism</c> at once, and narrows when the registry
/// pushes back: each 429 or 503 the resilience pipeline retries (<see cref="RegistryPushBack"/>) halves the number
/// in flight (once per burst); every run of successes as long as the limit earns one slot back, up to the maximum.
/// Additive increase, multiplicative decrease, as TCP does. Nothing is retried or waited for here: the resilience
/// pipeline owns retries (<see cref="RegistryResilience"/>), and a request that still fails fails the listing.
/// </summary>
internal sealed class AdaptiveParallelism
{
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

    /// <summary>The number in flight allowed now; for tests.</summary>
    internal int Limit
    {
        get
        {
            lock (_gate)
            {
                return _limit;
            }
        }
    }

    /// <summary>Runs <paramref name="body"/> for 0 … <paramref name="count"/>-1; the first failure cancels the rest and is thrown.</summary>
    public static Task ForEachAsync(int count, int maxParallelism, Func<int, CancellationToken, Task> body, CancellationToken cancellationToken = default) =>
        new AdaptiveParallelism(maxParallelism).RunAllAsync(count, body, cancellationToken);

    internal static AdaptiveParallelism Create(int maxParallelism) => new(maxParallelism);

    internal async Task RunAllAsync(int count, Func<int, CancellationToken, Task> body, CancellationToken cancellationToken = default)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => RunAsync(i, body, failed))).ConfigureAwait(false);
    }

    private async Task RunAsync(int index, Func<int, CancellationToken, Task> body, CancellationTokenSource failed)
    {
        var cancellationToken = failed.Token;
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

        // This flow's push-back (the pipeline retrying a 429 or 503 for this tag) narrows the listing.
        using var listening = RegistryPushBack.Listen(() => generation = Throttled(generation));
        try
        {
            await body(index, cancellationToken).ConfigureAwait(false);
            Succeeded();
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
    }

    /// <summary>Halves the limit unless this burst already did; returns the generation the caller has now seen.</summary>
    private int Throttled(int generation)
    {
        lock (_gate)
        {
            _streak = 0;
            // Every request of a burst hears the same 429: cut once per burst, not once per request.
            if (generation != _generation || _limit == 1)
            {
                return _generation;
            }

            _generation++;
            var halved = _limit / 2;
            _debt += _limit - halved;
            _limit = halved;
            return _generation;
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
