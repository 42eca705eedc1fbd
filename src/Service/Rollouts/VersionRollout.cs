namespace SysextFunctions.Rollouts;

/// <summary>The step a version reaches next, and when (null while it is halted: nobody knows when it resumes).</summary>
public sealed record NextStep(double Share, DateTimeOffset? At);

/// <summary>
/// Where one version's rollout stands at one moment: the share of machines it is offered to, and why.
/// </summary>
/// <param name="Published">The publish time the schedule counts from; null when the version has none.</param>
/// <param name="Phased">Whether a schedule governs the version (false: offered to every machine).</param>
/// <param name="Share">The share of machines offered the version now, 0–1.</param>
/// <param name="Halted">An open pause (or a broken policy) holds the share where it is.</param>
/// <param name="Promoted">The policy promoted the version to every machine.</param>
public sealed record VersionRollout(string Version, DateTimeOffset? Published, bool Phased, double Share, NextStep? Next, bool Halted, bool Promoted)
{
    /// <summary>Offered to every machine: not phased, promoted or past its last step.</summary>
    public bool Complete => !Phased || Share >= 1;

    /// <summary>Whether the machine with <paramref name="machine"/> is offered the version.</summary>
    public bool OfferedTo(MachineHash machine, string repository) => Complete || machine.Bucket(repository, Version) < Share;
}

/// <summary>
/// The one place a version's share is worked out. <c>share(t)</c> is the schedule's share at
/// <c>elapsed(t) = t − published − (time inside pauses between published and t)</c>, which never decreases, so
/// shares only grow or freeze; a machine is offered the version while its bucket is below the share.
/// </summary>
public static class RolloutEvaluator
{
    /// <param name="schedule">The repository's schedule (<c>Rollout:Steps</c> or its mapping's); a policy's own steps replace it.</param>
    /// <param name="policy">The policy's entry for this version, if any.</param>
    /// <param name="frozenSince">
    /// When a broken policy was first seen: the version is evaluated as it stood then (with <paramref name="policy"/>
    /// from the last good document), and no later step is taken.
    /// </param>
    public static VersionRollout Evaluate(string version, DateTimeOffset? published, RolloutSchedule schedule, VersionPolicy? policy, DateTimeOffset now, DateTimeOffset? frozenSince = null)
    {
        if (published is not { } start)
        {
            return new VersionRollout(version, null, Phased: false, 1, null, Halted: false, Promoted: false);
        }

        if (policy is { Promote: true })
        {
            return new VersionRollout(version, start, Phased: true, 1, null, Halted: false, Promoted: true);
        }

        var steps = policy?.Steps ?? schedule;
        var pauses = Merge(policy?.Pauses ?? []);
        var at = frozenSince is { } frozen && frozen < now ? frozen : now;
        var elapsed = Elapsed(start, pauses, at);
        // Not published yet (a clock ahead of ours): nobody gets it before its time.
        var share = at < start ? 0 : steps.ShareAt(elapsed);
        var open = frozenSince is not null || pauses.Any(p => p.From <= now && (p.Until is not { } until || until > now));
        if (share >= 1)
        {
            return new VersionRollout(version, start, Phased: true, 1, null, Halted: false, Promoted: false);
        }

        NextStep? next = null;
        if (steps.NextAfter(elapsed) is { } step)
        {
            // The step comes once the schedule has run its remaining time, after the pause now running (if it ends).
            var current = pauses.FirstOrDefault(p => p.From <= now && (p.Until is not { } until || until > now));
            DateTimeOffset? when = open ? null : now + (step.Delay - elapsed);
            if (current is { Until: { } resumes } && frozenSince is null)
            {
                when = resumes + (step.Delay - elapsed);
            }

            next = new NextStep(step.Share, when);
        }

        return new VersionRollout(version, start, Phased: true, share, next, open, Promoted: false);
    }

    /// <summary>
    /// A broken policy with no good one known: versions complete by their schedule stay complete, every other one is
    /// held at most at its first step's share.
    /// </summary>
    public static VersionRollout EvaluateWithoutPolicy(string version, DateTimeOffset? published, RolloutSchedule schedule, DateTimeOffset now)
    {
        var plain = Evaluate(version, published, schedule, null, now);
        return plain.Complete
            ? plain
            : plain with { Share = Math.Min(plain.Share, schedule.Steps[0].Share), Next = plain.Next is null ? null : plain.Next with { At = null }, Halted = true };
    }

    /// <summary>
    /// A moment after <paramref name="now"/> before which <see cref="Evaluate"/> (and
    /// <see cref="EvaluateWithoutPolicy"/>) with these arguments gives the same answer as at <paramref name="now"/>:
    /// the earliest of the publish time, the bounds of every pause, the moment a broken policy froze it, and the
    /// soonest the next step can be reached (the schedule's clock runs at most as fast as the wall clock). Early is
    /// allowed (the answer is then worked out again, the same), late never; <see cref="DateTimeOffset.MaxValue"/>
    /// when nothing can change it.
    /// </summary>
    public static DateTimeOffset StableUntil(DateTimeOffset? published, RolloutSchedule schedule, VersionPolicy? policy, DateTimeOffset now, DateTimeOffset? frozenSince = null)
    {
        if (published is not { } start || policy is { Promote: true })
        {
            return DateTimeOffset.MaxValue;
        }

        if (now < start)
        {
            // Published "in the future" (the publisher's clock ahead of ours): Evaluate counts the next step from now,
            // so its answer moves with the clock; rare enough to work out afresh each time.
            return now.AddTicks(1);
        }

        var until = DateTimeOffset.MaxValue;
        void Consider(DateTimeOffset moment)
        {
            if (moment > now && moment < until)
            {
                until = moment;
            }
        }

        if (frozenSince is { } frozen)
        {
            Consider(frozen);
        }

        var pauses = policy?.Pauses ?? [];
        foreach (var pause in pauses)
        {
            Consider(pause.From);
            if (pause.Until is { } end)
            {
                Consider(end);
            }
        }

        var elapsed = Elapsed(start, pauses, now);
        if ((policy?.Steps ?? schedule).NextAfter(elapsed) is { } step)
        {
            Consider(now + (step.Delay - elapsed));
        }

        return until;
    }

    /// <summary>The schedule's clock: time since publishing, less the time spent in pauses; never negative.</summary>
    public static TimeSpan Elapsed(DateTimeOffset published, IReadOnlyList<RolloutPause> pauses, DateTimeOffset at)
    {
        if (at <= published)
        {
            return TimeSpan.Zero;
        }

        var paused = TimeSpan.Zero;
        foreach (var pause in Merge(pauses))
        {
            var from = pause.From > published ? pause.From : published;
            var until = pause.Until is { } end && end < at ? end : at;
            if (until > from)
            {
                paused += until - from;
            }
        }

        return at - published - paused;
    }

    /// <summary>Overlapping pauses as one, in order, so that no moment is subtracted twice.</summary>
    private static List<RolloutPause> Merge(IReadOnlyList<RolloutPause> pauses)
    {
        var merged = new List<RolloutPause>();
        foreach (var pause in pauses.OrderBy(p => p.From))
        {
            if (merged.Count > 0 && merged[^1] is var last && (last.Until is not { } lastUntil || pause.From <= lastUntil))
            {
                var until = last.Until is null || pause.Until is null ? (DateTimeOffset?)null : (pause.Until > last.Until ? pause.Until : last.Until);
                merged[^1] = last with { Until = until };
                continue;
            }

            merged.Add(pause);
        }

        return merged;
    }
}
