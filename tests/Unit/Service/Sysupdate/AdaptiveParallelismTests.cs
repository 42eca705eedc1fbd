using SysextFunctions.Registry;
using SysextFunctions.Sysupdate;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Tests.Unit.Service.Sysupdate;

/// <summary>
/// The listing's concurrency: as wide as configured, narrower when the resilience pipeline reports push-back
/// (<see cref="RegistryPushBack"/>), and never a retry of its own. No clock: items wait on each other, not on time.
/// </summary>
public class AdaptiveParallelismTests
{
    /// <summary>Counts items in flight and the most at once.</summary>
    private sealed class InFlight
    {
        private int _now;
        public int Peak;

        public int Enter()
        {
            var now = Interlocked.Increment(ref _now);
            int seen;
            while ((seen = Volatile.Read(ref Peak)) < now && Interlocked.CompareExchange(ref Peak, now, seen) != seen)
            {
            }

            return now;
        }

        public void Leave() => Interlocked.Decrement(ref _now);
    }

    [Fact]
    public async Task ForEachAsync_NoPushBack_RunsAsWideAsAllowed()
    {
        var inFlight = new InFlight();
        var wide = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await AdaptiveParallelism.ForEachAsync(200, 32, async (_, _) =>
        {
            // The first 32 wait for each other: all of them must be let in at once.
            if (inFlight.Enter() == 32)
            {
                wide.TrySetResult();
            }

            await wide.Task;
            inFlight.Leave();
        });

        Assert.Equal(32, inFlight.Peak);
    }

    [Fact]
    public async Task ForEachAsync_FirstBurstPushedBack_LaterItemsRunAtHalfWidthWithoutRetry()
    {
        var calls = new int[100];
        var firstWave = new InFlight();
        var later = new InFlight();
        var burst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var limiter = AdaptiveParallelism.Create(32);

        await limiter.RunAllAsync(100, async (i, _) =>
        {
            Interlocked.Increment(ref calls[i]);
            if (i < 32)
            {
                // The whole first wave hears the registry's 429 (the pipeline retries it and reports it) …
                firstWave.Enter();
                RegistryPushBack.Report();
                if (Volatile.Read(ref firstWave.Peak) == 32)
                {
                    burst.TrySetResult();
                }

                await burst.Task;
                return;
            }

            // … and the rest run narrower.
            later.Enter();
            await Task.Yield();
            later.Leave();
        });

        // Halved once for the burst, not once per request: 16, and back up by one slot per run of successes.
        Assert.InRange(later.Peak, 1, 19);
        Assert.All(calls, c => Assert.Equal(1, c));
    }

    [Fact]
    public async Task ForEachAsync_PushBackThenFailure_FailsTheListingWithoutRetrying()
    {
        var calls = 0;

        var e = await Assert.ThrowsAsync<RegistryException>(() => AdaptiveParallelism.ForEachAsync(1, 4, (_, _) =>
        {
            Interlocked.Increment(ref calls);
            RegistryPushBack.Report();
            throw new RegistryException(RegistryFailure.Throttled, "429") { RetryAfter = TimeSpan.FromMinutes(1) };
        }));

        Assert.Equal(TimeSpan.FromMinutes(1), e.RetryAfter);
        Assert.Equal(1, calls);
    }

    [Fact]
    public void Report_OutsideAListing_DoesNothing()
    {
        RegistryPushBack.Report();
    }

    [Fact]
    public async Task ForEachAsync_OtherFailure_CancelsTheRest()
    {
        var started = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => AdaptiveParallelism.ForEachAsync(1000, 2, async (i, ct) =>
        {
            Interlocked.Increment(ref started);
            await Task.Yield();
            ct.ThrowIfCancellationRequested();
            throw new InvalidOperationException("broken");
        }));

        Assert.InRange(started, 1, 10);
    }
}
