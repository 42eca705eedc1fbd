using Microsoft.Extensions.Logging;

namespace SysextFunctions.Http;

/// <summary>
/// Gives back to the system what a burst of streamed downloads took, once they are over. Each open stream holds a
/// pooled chunk and the transport's buffers (docs/configuration.md, "Slow readers and memory"); when they close, that
/// memory is garbage the GC reclaims only at its next full collection, which an idle server does not make: 1,000 slow
/// readers left about 90 MiB resident for as long as the process stayed quiet. So when the open streams, after
/// reaching <see cref="HighMark"/> or more at once, fall back to none and stay none for <see cref="QuietPeriod"/>,
/// one aggressive full collection (compacting, and returning freed memory to the system) runs, at most once every
/// <see cref="MinInterval"/>. A few streams, or a steady load that never falls to none, never trigger one.
/// Both hostings stream through <see cref="BlobStreamResult"/>, so both are covered.
/// </summary>
public sealed partial class IdleMemoryTrim(TimeProvider time, ILogger<IdleMemoryTrim> logger) : IDisposable
{
    /// <summary>Streams open at once before their end is worth a collection: below it, what they held is small.</summary>
    public const int HighMark = 64;

    /// <summary>How long no stream may be open before the collection: a burst that is only pausing is left alone.</summary>
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(10);

    /// <summary>The least time between two collections: a blocking full collection costs a pause, so bursts in quick succession share one.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private int _open;
    private int _peak;
    private long? _lastTrim;
    private ITimer? _timer;

    /// <summary>Counts a stream as open until the result is disposed.</summary>
    public IDisposable Open()
    {
        lock (_lock)
        {
            _open++;
            _peak = Math.Max(_peak, _open);
            // Not quiet any more: whatever was planned waits for the next time none is open.
            _timer?.Dispose();
            _timer = null;
        }

        return new Stream(this);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }

    private void Close()
    {
        lock (_lock)
        {
            _open--;
            if (_open > 0 || _peak < HighMark)
            {
                return;
            }

            var due = QuietPeriod;
            if (_lastTrim is { } last && MinInterval - time.GetElapsedTime(last) is var wait && wait > due)
            {
                due = wait;
            }

            _timer?.Dispose();
            ITimer? timer = null;
            timer = time.CreateTimer(_ => OnQuiet(timer!), null, due, Timeout.InfiniteTimeSpan);
            _timer = timer;
        }
    }

    private void OnQuiet(ITimer timer)
    {
        int peak;
        lock (_lock)
        {
            // A stream opened since (which disposed this timer), or a newer plan: not this one's turn.
            if (!ReferenceEquals(_timer, timer) || _open > 0)
            {
                return;
            }

            _timer.Dispose();
            _timer = null;
            peak = _peak;
            _peak = 0;
            _lastTrim = time.GetTimestamp();
        }

        var before = Environment.WorkingSet;
        // Aggressive: compacts every generation, the large and pinned object heaps included, and decommits what is
        // then free instead of keeping it for later allocations.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        LogTrimmed(logger, peak, before / (1024 * 1024), Environment.WorkingSet / (1024 * 1024));
    }

    [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "Streams ended after {Peak} at once: memory given back, working set {Before} MiB -> {After} MiB")]
    private static partial void LogTrimmed(ILogger logger, int peak, long before, long after);

    private sealed class Stream(IdleMemoryTrim owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Close();
            }
        }
    }
}
