using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using SysextFunctions.Http;

namespace SysextFunctions.Tests.Unit.Service.Http;

/// <summary>
/// When a burst of streamed downloads is over, memory is given back once, after a quiet period, at most once a
/// minute; a few streams or a load that never falls to none cause no collection. On a fake clock; the collections
/// counted are the ones the trim logs.
/// </summary>
public sealed class IdleMemoryTrimTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger<IdleMemoryTrim> _logger = new();
    private readonly IdleMemoryTrim _trim;

    public IdleMemoryTrimTests() => _trim = new IdleMemoryTrim(_time, _logger);

    public void Dispose() => _trim.Dispose();

    private int Trims => _logger.Collector.GetSnapshot().Count(r => r.Id.Id == 4201);

    /// <summary>Opens <paramref name="count"/> streams at once and closes them all.</summary>
    private void Burst(int count)
    {
        var streams = Enumerable.Range(0, count).Select(_ => _trim.Open()).ToList();
        streams.ForEach(s => s.Dispose());
    }

    [Fact]
    public void Close_BurstAtHighMarkThenQuiet_OneCollectionAfterQuietPeriod()
    {
        Burst(IdleMemoryTrim.HighMark);

        _time.Advance(IdleMemoryTrim.QuietPeriod - TimeSpan.FromSeconds(1));
        Assert.Equal(0, Trims);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, Trims);
        Assert.Contains($"after {IdleMemoryTrim.HighMark} at once", _logger.LatestRecord.Message, StringComparison.Ordinal);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, Trims);
    }

    [Fact]
    public void Close_FewerThanHighMark_NoCollection()
    {
        Burst(IdleMemoryTrim.HighMark - 1);
        Burst(3);

        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, Trims);
    }

    [Fact]
    public void Open_DuringQuietPeriod_CollectionWaitsForTheNextQuiet()
    {
        Burst(IdleMemoryTrim.HighMark);
        _time.Advance(IdleMemoryTrim.QuietPeriod / 2);

        // One stream that outlasts the planned collection: none while it is open.
        var late = _trim.Open();
        _time.Advance(IdleMemoryTrim.QuietPeriod * 3);
        Assert.Equal(0, Trims);

        late.Dispose();
        _time.Advance(IdleMemoryTrim.QuietPeriod);
        Assert.Equal(1, Trims);
    }

    [Fact]
    public void Close_SteadyLoadNeverAtZero_NoCollection()
    {
        var held = _trim.Open();
        for (var i = 0; i < 10; i++)
        {
            Burst(IdleMemoryTrim.HighMark * 2);
            _time.Advance(IdleMemoryTrim.QuietPeriod * 2);
        }

        Assert.Equal(0, Trims);
        held.Dispose();
        _time.Advance(IdleMemoryTrim.QuietPeriod);
        Assert.Equal(1, Trims);
    }

    [Fact]
    public void Close_SecondBurstSoonAfter_CollectedNoSoonerThanMinInterval()
    {
        Burst(IdleMemoryTrim.HighMark);
        _time.Advance(IdleMemoryTrim.QuietPeriod);
        Assert.Equal(1, Trims);

        Burst(IdleMemoryTrim.HighMark);
        // The first collection was a moment ago: this one waits until a minute after it.
        _time.Advance(IdleMemoryTrim.MinInterval - TimeSpan.FromSeconds(1));
        Assert.Equal(1, Trims);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, Trims);
    }

    [Fact]
    public void Dispose_Twice_CountedOnce()
    {
        var streams = Enumerable.Range(0, IdleMemoryTrim.HighMark).Select(_ => _trim.Open()).ToList();
        var first = streams[0];
        first.Dispose();
        first.Dispose();

        // Were the double dispose counted, the rest closing would drop below zero, not to zero: no quiet then.
        streams.Skip(1).Take(streams.Count - 2).ToList().ForEach(s => s.Dispose());
        _time.Advance(IdleMemoryTrim.QuietPeriod);
        Assert.Equal(0, Trims);
        streams[^1].Dispose();
        _time.Advance(IdleMemoryTrim.QuietPeriod);
        Assert.Equal(1, Trims);
    }
}
