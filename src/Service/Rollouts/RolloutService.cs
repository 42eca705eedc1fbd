using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SysextFunctions.Catalogue;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Sysupdate;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Rollouts;

/// <summary>
/// Phased rollouts: where each version of a repository stands now (<see cref="RepositoryRollout"/>), and the
/// SHA256SUMS each machine gets from it. Publish dates and the policy come from the listing's snapshot and are
/// worked out once per snapshot; shares are worked out per request from the clock, and each distinct list is
/// rendered and signed once (<see cref="ChecksumsFor"/>).
/// </summary>
public sealed partial class RolloutService : IDisposable
{
    /// <summary>Distinct lists kept with their signatures: far more than the 2^(versions in progress) a fleet can see.</summary>
    public const int MaxLists = 4096;

    /// <summary>Repositories whose last good policy is remembered (to freeze at when a later one is broken).</summary>
    public const int MaxPolicies = 10_000;

    /// <summary>How many image configs a rollout reads for dates: every version needs one, or it cannot be phased.</summary>
    private const int MaxConfigReads = 1024;

    private static readonly TimeSpan PolicyMemory = TimeSpan.FromDays(7);
    private static readonly TimeSpan ListMemory = TimeSpan.FromHours(1);

    /// <summary>Machines whose last list and buckets are kept: a fleet's recent askers, bounded whatever keys clients send.</summary>
    public const int MaxMachines = 16_384;

    private static readonly TimeSpan MachineMemory = TimeSpan.FromMinutes(10);

    private readonly ImageConfigDates _dates;
    private readonly ChecksumsSigner _signer;
    private readonly TimeProvider _time;
    private readonly ILogger<RolloutService> _logger;
    private readonly IOptions<RolloutOptions> _options;
    private readonly MemoryCache _lists;
    private readonly MemoryCache _policies;
    private readonly MemoryCache _machines;
    private readonly ConditionalWeakTable<RepositorySnapshot, Task<Facts>> _facts = [];
    private readonly Lock _listLock = new();
    private readonly Http.SysextMetrics _metrics;

    public RolloutService(ImageConfigDates dates, ChecksumsSigner signer, IOptions<RolloutOptions> options, TimeProvider time, ILogger<RolloutService> logger, Http.SysextMetrics metrics)
    {
        _metrics = metrics;
        _dates = dates;
        _signer = signer;
        _options = options;
        _time = time;
        _logger = logger;
        _lists = new MemoryCache(new MemoryCacheOptions { SizeLimit = MaxLists, Clock = new MemoryCacheClock(time) });
        _policies = new MemoryCache(new MemoryCacheOptions { SizeLimit = MaxPolicies, Clock = new MemoryCacheClock(time) });
        _machines = new MemoryCache(new MemoryCacheOptions { SizeLimit = MaxMachines, Clock = new MemoryCacheClock(time) });
    }

    /// <summary>How many lists have been signed: at most one per distinct list while it is remembered.</summary>
    public long ListsSigned => Interlocked.Read(ref _listsSigned);

    private long _listsSigned;

    public PlainPathListing PlainPath => _options.Value.PlainPath;

    /// <summary>Where every version of the snapshot's repository stands now; null when no schedule applies.</summary>
    public async Task<RepositoryRollout?> GetAsync(Upstream upstream, RepositorySnapshot snapshot, CancellationToken cancellationToken = default)
    {
        if (upstream.Rollout is not { } schedule)
        {
            return null;
        }

        var facts = await _facts.GetValue(snapshot, s => FactsAsync(upstream, s)).WaitAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        // Shares move only at a few known moments (steps, pauses): until the next one, every request of this snapshot
        // gets the same instance, which is also what lets a machine's list be looked up instead of worked out.
        if (facts.Evaluated is { } evaluated && ReferenceEquals(evaluated.Rollout.Schedule, schedule) && now >= evaluated.At && now < evaluated.StableUntil)
        {
            return evaluated.Rollout;
        }

        var versions = new Dictionary<string, VersionRollout>(StringComparer.Ordinal);
        var stableUntil = DateTimeOffset.MaxValue;
        foreach (var (version, published) in facts.Published)
        {
            if (published.Unread)
            {
                // A date we could not read this time is not "no date": offering the version to all could spread a bad
                // release, so it is held back until the next listing reads it.
                versions[version] = new VersionRollout(version, null, Phased: true, 0, null, Halted: true, Promoted: false);
                continue;
            }

            var policy = facts.Policy?.For(version);
            versions[version] = facts.Policy is not null
                ? RolloutEvaluator.Evaluate(version, published.At, schedule, policy, now, facts.FrozenSince)
                : RolloutEvaluator.EvaluateWithoutPolicy(version, published.At, schedule, now);
            var until = RolloutEvaluator.StableUntil(published.At, schedule, policy, now, facts.FrozenSince);
            stableUntil = until < stableUntil ? until : stableUntil;
        }

        var rollout = new RepositoryRollout(schedule, versions, facts.State);
        facts.Evaluated = new Evaluation(rollout, now, stableUntil);
        return rollout;
    }

    /// <summary>
    /// The SHA256SUMS for <paramref name="machine"/> (null: the plain path), its ETag and signature: the snapshot's
    /// own when nothing is held back, else a list rendered and signed once for everyone who sees the same versions.
    /// </summary>
    public ChecksumsList ChecksumsFor(RepositorySnapshot snapshot, RepositoryRollout? rollout, MachineHash? machine, string repository)
    {
        if (rollout is null || (machine is null && PlainPath == PlainPathListing.All))
        {
            return Whole(snapshot);
        }

        var bestBefore = _signer.BestBeforeDate(_time.GetUtcNow());
        if (machine is not { } hash)
        {
            return ListWithout(snapshot, rollout.InProgress.Select(state => state.Version), bestBefore);
        }

        // A machine seen a moment ago, with the rollout as it was then: its list, looked up (no hashing, no lock).
        var slot = new MachineSlot(hash, repository);
        var known = _machines.Get<MachineList>(slot);
        if (known is not null && ReferenceEquals(known.Rollout, rollout) && known.BestBefore == bestBefore)
        {
            return known.List;
        }

        // Buckets never change for a machine, repository and version: kept with the machine for the versions in
        // progress, so that a new listing or a step costs a lookup, not a hash.
        var buckets = new Dictionary<string, double>(rollout.InProgress.Count, StringComparer.Ordinal);
        var withheld = new List<string>();
        foreach (var state in rollout.InProgress)
        {
            if (known is null || !known.Buckets.TryGetValue(state.Version, out var bucket))
            {
                bucket = hash.Bucket(repository, state.Version);
            }

            buckets[state.Version] = bucket;
            if (!(bucket < state.Share))
            {
                withheld.Add(state.Version);
            }
        }

        var list = ListWithout(snapshot, withheld, bestBefore);
        _machines.Set(slot, new MachineList(rollout, bestBefore, list, buckets), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = MachineMemory });
        return list;
    }

    private static ChecksumsList Whole(RepositorySnapshot snapshot) => new(snapshot.Checksums, snapshot.ETag, snapshot.Signature);

    /// <summary>The snapshot's list less the files of <paramref name="withheld"/> versions (in progress, ordered): made and signed once per distinct list.</summary>
    private ChecksumsList ListWithout(RepositorySnapshot snapshot, IEnumerable<string> withheld, DateOnly? bestBefore)
    {
        var names = string.Join('\n', withheld);
        if (names.Length == 0)
        {
            return Whole(snapshot);
        }

        // Keyed by the versions held back, not by those offered: those stay the same while another version completes
        // or is promoted, and a list kept under them would go on leaving that one out.
        var key = $"{snapshot.ETag}|{bestBefore}|{names}";
        if (_lists.Get<Lazy<ChecksumsList>>(key) is not { } list)
        {
            lock (_listLock)
            {
                // Under the lock only to make one Lazy per list: concurrent first requests then sign once between them.
                list = _lists.GetOrCreate(key, entry =>
                {
                    entry.Size = 1;
                    entry.SlidingExpiration = ListMemory;
                    var held = withheld.ToHashSet(StringComparer.Ordinal);
                    return new Lazy<ChecksumsList>(() => Render([.. snapshot.Files.Where(file => !held.Contains(file.Version))], bestBefore));
                })!;
            }
        }

        return list.Value;
    }

    private ChecksumsList Render(IReadOnlyList<SysextFile> files, DateOnly? bestBefore)
    {
        var body = Checksums.Render(files, bestBefore);
        var signature = _signer.Sign(body);
        if (signature is not null)
        {
            Interlocked.Increment(ref _listsSigned);
            _metrics.ListSigned();
        }

        return new ChecksumsList(body, $"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body))}\"", signature);
    }

    /// <summary>What a snapshot says for rollouts, worked out once: each version's publish time, and the policy to use.</summary>
    private async Task<Facts> FactsAsync(Upstream upstream, RepositorySnapshot snapshot)
    {
        var unread = new HashSet<Digest>();
        // Not the request's token: the result is shared by every request for this snapshot.
        var files = await _dates.FillAsync(upstream, snapshot.Files, MaxConfigReads, unread, CancellationToken.None).ConfigureAwait(false);
        var published = files.GroupBy(f => f.Version, StringComparer.Ordinal).ToDictionary(
            g => g.Key,
            g => new Published(g.Select(f => f.Created).Max(), g.Any(f => f.Created is null && f.Config is { } config && unread.Contains(config))),
            StringComparer.Ordinal);

        foreach (var (version, _) in published.Where(p => p.Value.At is null && !p.Value.Unread))
        {
            LogNoDate(_logger, upstream.Repository, version);
        }

        foreach (var (version, _) in published.Where(p => p.Value.Unread))
        {
            LogDateUnread(_logger, upstream.Repository, version);
        }

        var (policy, frozenSince, state) = Remember(upstream, snapshot);
        foreach (var unknown in policy?.Versions.Keys.Where(v => !published.ContainsKey(v)) ?? [])
        {
            LogUnknownVersion(_logger, upstream.Repository, unknown);
        }

        return new Facts(published, policy, frozenSince, state);
    }

    /// <summary>
    /// The policy to evaluate with: the snapshot's when good (remembered as the last good one), else the last good
    /// one frozen at the moment the failure was first seen, else none (versions in progress held at their first step).
    /// </summary>
    private (RolloutPolicy? Policy, DateTimeOffset? FrozenSince, string State) Remember(Upstream upstream, RepositorySnapshot snapshot)
    {
        var key = $"{upstream.RegistryId}|{upstream.Repository}";
        var read = snapshot.Policy;
        lock (_policies)
        {
            if (!read.Failed)
            {
                var good = read.Policy ?? RolloutPolicy.Empty;
                _policies.Set(key, new PolicyMemoryEntry(good, null), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = PolicyMemory });
                return (good, null, read.Policy is null ? RepositoryRollout.NoPolicy : RepositoryRollout.PolicyOk);
            }

            var known = _policies.Get<PolicyMemoryEntry>(key);
            var since = known?.FailingSince ?? snapshot.ListedAt;
            _policies.Set(key, new PolicyMemoryEntry(known?.LastGood, since), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = PolicyMemory });
            return (known?.LastGood, since, read.Error!);
        }
    }

    public void Dispose()
    {
        _lists.Dispose();
        _policies.Dispose();
        _machines.Dispose();
    }

    private sealed record PolicyMemoryEntry(RolloutPolicy? LastGood, DateTimeOffset? FailingSince);

    private sealed record Published(DateTimeOffset? At, bool Unread);

    private sealed record Facts(IReadOnlyDictionary<string, Published> Published, RolloutPolicy? Policy, DateTimeOffset? FrozenSince, string State)
    {
        /// <summary>The last evaluation, shared by the requests that come before it can change (a race only evaluates twice).</summary>
        public Evaluation? Evaluated
        {
            get => Volatile.Read(ref _evaluated);
            set => Volatile.Write(ref _evaluated, value);
        }

        private Evaluation? _evaluated;
    }

    /// <summary>Where the versions stood at <paramref name="At"/>, the same until <paramref name="StableUntil"/>.</summary>
    private sealed record Evaluation(RepositoryRollout Rollout, DateTimeOffset At, DateTimeOffset StableUntil);

    /// <summary>One machine's place in one repository: its keyed hash, never the key, and the path it asked under.</summary>
    private readonly record struct MachineSlot(MachineHash Machine, string Repository);

    /// <summary>What a machine got last (valid while the rollout is the same instance and the marker the same day), and its buckets per version.</summary>
    private sealed record MachineList(RepositoryRollout Rollout, DateOnly? BestBefore, ChecksumsList List, IReadOnlyDictionary<string, double> Buckets);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "{Repository}:{Version} has no publish date (org.opencontainers.image.created or the config's date): it is not phased, every machine is offered it")]
    private static partial void LogNoDate(ILogger logger, string repository, string version);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "{Repository}:{Version}: the publish date could not be read; the version is held back from machines until it can")]
    private static partial void LogDateUnread(ILogger logger, string repository, string version);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "Rollout policy of {Repository} names {Version}, which is not a version there: ignored")]
    private static partial void LogUnknownVersion(ILogger logger, string repository, string version);
}

/// <summary>One SHA256SUMS as served: its bytes, ETag and detached signature (null when nothing is signed).</summary>
[SuppressMessage("Performance", "CA1819:Properties should not return arrays", Justification = "Immutable by convention, like RepositorySnapshot")]
public sealed record ChecksumsList(byte[] Body, string ETag, byte[]? Signature);
