using SysextFunctions.Registry;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Tests.Unit.Functions.Sysupdate;

/// <summary>The listing's concurrency: as wide as configured, narrower when the registry says 429.</summary>
public class AdaptiveParallelismTests
{
    /// <summary>A registry that answers 429 (with Retry-After) to any request beyond <paramref name="capacity"/> in flight.</summary>
    private sealed class Crowded(int capacity)
    {
        private int _inFlight;

        public int Throttled;
        public int Peak;
        public int Done;

        public async Task RequestAsync(CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref _inFlight);
            try
            {
                InterlockedMax(ref Peak, now);
                if (now > capacity)
                {
                    Interlocked.Increment(ref Throttled);
                    throw new RegistryException(RegistryFailure.Throttled, "429") { RetryAfter = TimeSpan.FromMilliseconds(20) };
                }

                await Task.Delay(5, cancellationToken);
                Interlocked.Increment(ref Done);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }

    [Fact]
    public async Task ForEachAsync_NoPushBack_RunsAsWideAsAllowed()
    {
        var registry = new Crowded(int.MaxValue);

        await AdaptiveParallelism.ForEachAsync(200, 32, (_, ct) => registry.RequestAsync(ct));

        Assert.Equal(200, registry.Done);
        Assert.Equal(32, registry.Peak);
    }

    [Fact]
    public async Task ForEachAsync_RegistryTakesEight_BacksOffAndFinishesEveryItem()
    {
        var registry = new Crowded(8);

        await AdaptiveParallelism.ForEachAsync(300, 64, (_, ct) => registry.RequestAsync(ct));

        Assert.Equal(300, registry.Done);
        // The first burst hits the limit; after halving, most requests go through: far fewer 429s than items.
        Assert.InRange(registry.Throttled, 1, 150);
    }

    [Fact]
    public async Task ForEachAsync_LongRetryAfter_FailsAtOnceWithTheRegistrysDelay()
    {
        var calls = 0;

        var e = await Assert.ThrowsAsync<RegistryException>(() => AdaptiveParallelism.ForEachAsync(100, 4, (_, _) =>
        {
            Interlocked.Increment(ref calls);
            throw new RegistryException(RegistryFailure.Throttled, "429") { RetryAfter = TimeSpan.FromMinutes(1) };
        }));

        Assert.Equal(TimeSpan.FromMinutes(1), e.RetryAfter);
        Assert.InRange(calls, 1, 4);
    }

    [Fact]
    public async Task ForEachAsync_AlwaysThrottled_GivesUpAfterMaxAttempts()
    {
        var calls = 0;

        var e = await Assert.ThrowsAsync<RegistryException>(() => AdaptiveParallelism.ForEachAsync(1, 4, (_, _) =>
        {
            Interlocked.Increment(ref calls);
            throw new RegistryException(RegistryFailure.Throttled, "429");
        }));

        Assert.Equal(RegistryFailure.Throttled, e.Failure);
        Assert.Equal(AdaptiveParallelism.MaxAttempts, calls);
    }

    [Fact]
    public async Task ForEachAsync_OtherFailure_CancelsTheRest()
    {
        var started = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => AdaptiveParallelism.ForEachAsync(1000, 2, async (i, ct) =>
        {
            Interlocked.Increment(ref started);
            await Task.Delay(2, ct);
            throw new InvalidOperationException("broken");
        }));

        Assert.InRange(started, 1, 10);
    }
}
