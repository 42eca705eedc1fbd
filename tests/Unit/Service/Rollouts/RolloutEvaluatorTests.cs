using Microsoft.Extensions.Time.Testing;
using SysextFunctions.Rollouts;

namespace SysextFunctions.Tests.Unit.Service.Rollouts;

/// <summary>The share of a version over time, with pauses, promotion and its own steps; the clock is a <see cref="FakeTimeProvider"/>.</summary>
public class RolloutEvaluatorTests
{
    private static readonly DateTimeOffset Published = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly RolloutSchedule Schedule = RolloutSchedule.Parse("5%@0h,25%@6h,50%@1d,100%@2d");
    private static readonly IReadOnlyList<MachineHash> Fleet =
        [.. Enumerable.Range(0, 2000).Select(i => new MachineKeys("fleet").TryHash($"machine-{i:D10}")!.Value)];

    private readonly FakeTimeProvider _time = new(Published);

    private VersionRollout Now(VersionPolicy? policy = null, RolloutSchedule? schedule = null, DateTimeOffset? frozenSince = null) =>
        RolloutEvaluator.Evaluate("v1.3", Published, schedule ?? Schedule, policy, _time.GetUtcNow(), frozenSince);

    private static HashSet<int> Offered(VersionRollout state) =>
        [.. Enumerable.Range(0, Fleet.Count).Where(i => state.OfferedTo(Fleet[i], "sysexts/app"))];

    [Fact]
    public void Evaluate_Schedule_SharesAndNextSteps()
    {
        var state = Now();
        Assert.True(state.Phased);
        Assert.Equal(0.05, state.Share);
        Assert.Equal(new NextStep(0.25, Published.AddHours(6)), state.Next);

        _time.Advance(TimeSpan.FromHours(7));
        Assert.Equal(0.25, Now().Share);
        Assert.Equal(new NextStep(0.5, Published.AddDays(1)), Now().Next);

        _time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, Now().Share);
        Assert.True(Now().Complete);
        Assert.Null(Now().Next);
    }

    [Fact]
    public void Evaluate_ShareGrows_OnceOfferedStillOffered()
    {
        var previous = new HashSet<int>();
        var counts = new List<int>();
        for (var hour = 0; hour <= 50; hour++)
        {
            var offered = Offered(Now());
            Assert.True(previous.IsSubsetOf(offered), $"hour {hour}: a machine lost the version");
            counts.Add(offered.Count);
            previous = offered;
            _time.Advance(TimeSpan.FromHours(1));
        }

        // About 5 %, 25 %, 50 % of 2000 machines, then all of them.
        Assert.InRange(counts[0], 60, 140);
        Assert.InRange(counts[6], 420, 580);
        Assert.InRange(counts[24], 900, 1100);
        Assert.Equal(Fleet.Count, counts[48]);
    }

    [Fact]
    public void Evaluate_Halted_NoNewMachineThoseOfferedKeepIt()
    {
        _time.Advance(TimeSpan.FromHours(7));
        var halt = new VersionPolicy([new RolloutPause(_time.GetUtcNow(), null)], Promote: false, Steps: null);
        var before = Offered(Now(halt));

        _time.Advance(TimeSpan.FromDays(5));
        var state = Now(halt);
        Assert.True(state.Halted);
        Assert.Equal(0.25, state.Share);
        Assert.Equal(0.5, state.Next!.Share);
        Assert.Null(state.Next.At);
        Assert.Equal(before, Offered(state));
    }

    [Fact]
    public void Evaluate_Resumed_ContinuesShiftedByThePause()
    {
        _time.Advance(TimeSpan.FromHours(7));
        var from = _time.GetUtcNow();
        var until = from.AddDays(3);
        var resumed = new VersionPolicy([new RolloutPause(from, until)], Promote: false, Steps: null);

        _time.Advance(TimeSpan.FromDays(1));
        Assert.True(Now(resumed).Halted);
        Assert.Equal(0.25, Now(resumed).Share);
        // 17 hours of the schedule were left to the 1-day step when the pause began.
        Assert.Equal(new NextStep(0.5, until.AddHours(17)), Now(resumed).Next);

        _time.SetUtcNow(until.AddHours(16));
        Assert.False(Now(resumed).Halted);
        Assert.Equal(0.25, Now(resumed).Share);
        _time.SetUtcNow(until.AddHours(17));
        Assert.Equal(0.5, Now(resumed).Share);
        _time.SetUtcNow(Published.AddDays(2 + 3));
        Assert.Equal(1, Now(resumed).Share);
    }

    [Fact]
    public void Evaluate_PauseInTheFuture_StartsThen()
    {
        var pause = new VersionPolicy([new RolloutPause(Published.AddHours(10), null)], Promote: false, Steps: null);
        Assert.False(Now(pause).Halted);
        _time.Advance(TimeSpan.FromDays(3));
        Assert.True(Now(pause).Halted);
        Assert.Equal(0.25, Now(pause).Share);
    }

    [Fact]
    public void Evaluate_OverlappingPauses_CountedOnce()
    {
        var pauses = new VersionPolicy(
            [new RolloutPause(Published.AddHours(1), Published.AddHours(11)), new RolloutPause(Published.AddHours(5), Published.AddHours(21))],
            Promote: false,
            Steps: null);
        Assert.Equal(TimeSpan.FromHours(4), RolloutEvaluator.Elapsed(Published, pauses.Pauses, Published.AddHours(24)));
    }

    [Fact]
    public void Evaluate_Promoted_EveryMachineNow()
    {
        var state = Now(new VersionPolicy([new RolloutPause(Published, null)], Promote: true, Steps: null));
        Assert.True(state.Promoted);
        Assert.True(state.Complete);
        Assert.Equal(Fleet.Count, Offered(state).Count);
    }

    [Fact]
    public void Evaluate_OwnSteps_ReplaceTheSchedule()
    {
        var own = new VersionPolicy([], Promote: false, RolloutSchedule.Parse("1%@0h,10%@1d,100%@3d"));
        Assert.Equal(0.01, Now(own).Share);
        _time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(0.1, Now(own).Share);
        Assert.Equal(1, Now().Share);
        Assert.Equal(new NextStep(1, Published.AddDays(3)), Now(own).Next);
    }

    [Fact]
    public void Evaluate_NoDate_NotPhasedOfferedToAll()
    {
        var state = RolloutEvaluator.Evaluate("v9", null, Schedule, null, _time.GetUtcNow());
        Assert.False(state.Phased);
        Assert.True(state.Complete);
        Assert.Equal(Fleet.Count, Offered(state).Count);
    }

    [Fact]
    public void Evaluate_PublishedInTheFuture_NobodyYet()
    {
        var state = RolloutEvaluator.Evaluate("v2", Published.AddHours(1), RolloutSchedule.Parse("10%@0h,100%@1d"), null, _time.GetUtcNow());
        Assert.Equal(0, state.Share);
        Assert.Empty(Offered(state));
    }

    [Fact]
    public void Evaluate_FrozenByBrokenPolicy_HeldWhereItStoodCompleteStaysComplete()
    {
        _time.Advance(TimeSpan.FromHours(7));
        var failedAt = _time.GetUtcNow();
        var before = Offered(Now());
        _time.Advance(TimeSpan.FromDays(10));

        var frozen = Now(frozenSince: failedAt);
        Assert.Equal(0.25, frozen.Share);
        Assert.True(frozen.Halted);
        Assert.Equal(before, Offered(frozen));

        var old = RolloutEvaluator.Evaluate("v1.0", Published.AddDays(-3), Schedule, null, _time.GetUtcNow(), failedAt);
        Assert.True(old.Complete);
    }

    [Fact]
    public void EvaluateWithoutPolicy_InProgress_HeldAtFirstStep()
    {
        _time.Advance(TimeSpan.FromHours(30));
        var held = RolloutEvaluator.EvaluateWithoutPolicy("v1.3", Published, Schedule, _time.GetUtcNow());
        Assert.Equal(0.05, held.Share);
        Assert.True(held.Halted);
        Assert.Null(held.Next!.At);

        _time.Advance(TimeSpan.FromDays(1));
        Assert.True(RolloutEvaluator.EvaluateWithoutPolicy("v1.3", Published, Schedule, _time.GetUtcNow()).Complete);
    }

    public static TheoryData<string> Policies => ["none", "open pause", "closed pause", "future pause", "overlapping pauses", "own steps", "promoted", "frozen", "frozen later", "not yet published", "no good policy"];

    /// <summary>
    /// Whatever the policy, the answer stays what it was from any moment until <see cref="RolloutEvaluator.StableUntil"/>
    /// (checked every 10 minutes and one tick before it), which is what lets one evaluation serve every request until then.
    /// </summary>
    [Theory]
    [MemberData(nameof(Policies))]
    public void StableUntil_NothingChangesBeforeIt(string name)
    {
        var (published, policy, frozen) = name switch
        {
            "open pause" => (Published, new VersionPolicy([new RolloutPause(Published.AddHours(8), null)], false, null), (DateTimeOffset?)null),
            "closed pause" => (Published, new VersionPolicy([new RolloutPause(Published.AddHours(3), Published.AddHours(13.5))], false, null), null),
            "future pause" => (Published, new VersionPolicy([new RolloutPause(Published.AddDays(1.3), Published.AddDays(2.1))], false, null), null),
            "overlapping pauses" => (Published, new VersionPolicy([new RolloutPause(Published.AddHours(2), Published.AddHours(9)), new RolloutPause(Published.AddHours(7), Published.AddHours(20))], false, null), null),
            "own steps" => (Published, new VersionPolicy([], false, RolloutSchedule.Parse("1%@10m,10%@90m,100%@3d")), null),
            "promoted" => (Published, new VersionPolicy([], true, null), null),
            "frozen" => (Published, null, Published.AddHours(7)),
            "frozen later" => (Published, null, Published.AddDays(1.5)),
            "not yet published" => (Published.AddHours(5), null, null),
            _ => (Published, (VersionPolicy?)null, (DateTimeOffset?)null),
        };

        VersionRollout At(DateTimeOffset now) => name == "no good policy"
            ? RolloutEvaluator.EvaluateWithoutPolicy("v1.3", published, Schedule, now)
            : RolloutEvaluator.Evaluate("v1.3", published, Schedule, policy, now, frozen);

        for (var from = Published.AddHours(-2); from < Published.AddDays(3.5); from += TimeSpan.FromMinutes(10))
        {
            var until = RolloutEvaluator.StableUntil(published, Schedule, policy, from, frozen);
            Assert.True(until > from);
            var expected = At(from);
            for (var at = from; at < until && at < from.AddDays(2.5); at += TimeSpan.FromMinutes(10))
            {
                Assert.Equal(expected, At(at));
            }

            if (until != DateTimeOffset.MaxValue)
            {
                Assert.Equal(expected, At(until - TimeSpan.FromTicks(1)));
            }
        }
    }
}
