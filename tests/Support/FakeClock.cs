using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that knows its pending timers, so that a test can run code that waits on it as
/// a discrete-event simulation: whenever a short wait (a retry's delay, a <c>Retry-After</c>) is pending, the clock
/// jumps to it; timers further than <see cref="Horizon"/> (timeouts) never fire. No sleeps, no wall
/// clock: the fake time a test asserts is exactly the time the code waited.
/// </summary>
internal sealed class FakeClock : TimeProvider
{
    private readonly ConcurrentDictionary<Timer, DateTimeOffset> _pending = new();

    public FakeClock(DateTimeOffset? start = null)
    {
        Fake = new FakeTimeProvider(start ?? new DateTimeOffset(2026, 12, 3, 9, 0, 0, TimeSpan.Zero));
    }

    public FakeTimeProvider Fake { get; }

    /// <summary>How far ahead a pending timer may be for the clock to jump to it at once.</summary>
    public TimeSpan Horizon { get; set; } = TimeSpan.FromMinutes(1);

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

    public override long GetTimestamp() => Fake.GetTimestamp();

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    public void Advance(TimeSpan delta) => Fake.Advance(delta);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new Timer(this);
        timer.Inner = Fake.CreateTimer(s => { timer.Fired(); callback(s); }, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Runs the clock until <paramref name="work"/> completes.</summary>
    public async Task<T> DriveAsync<T>(Task<T> work)
    {
        while (!work.IsCompleted)
        {
            var now = GetUtcNow();
            var next = _pending.Values.DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
            if (next - now <= Horizon)
            {
                Fake.Advance(next > now ? next - now : TimeSpan.Zero);
            }

            await Task.Yield();
        }

        return await work;
    }

    public async Task DriveAsync(Task work) =>
        await DriveAsync(work.ContinueWith(t => { t.GetAwaiter().GetResult(); return true; }, TaskScheduler.Default));

    private sealed class Timer(FakeClock clock) : ITimer
    {
        private TimeSpan _period = Timeout.InfiniteTimeSpan;

        public ITimer Inner { get; set; } = null!;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _period = period;
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                clock._pending.TryRemove(this, out _);
            }
            else
            {
                clock._pending[this] = clock.GetUtcNow() + dueTime;
            }

            return Inner.Change(dueTime, period);
        }

        public void Fired()
        {
            if (_period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero)
            {
                clock._pending.TryRemove(this, out _);
            }
            else
            {
                clock._pending[this] = clock.GetUtcNow() + _period;
            }
        }

        public void Dispose()
        {
            clock._pending.TryRemove(this, out _);
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
