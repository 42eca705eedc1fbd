using SysextFunctions.Sysupdate;

namespace SysextFunctions.Rollouts;

/// <summary>
/// Where every version of a repository stands at one moment, and the state of its policy: what the catalogue shows
/// and what decides each machine's SHA256SUMS.
/// </summary>
/// <param name="Schedule">The repository's schedule.</param>
/// <param name="Policy"><c>none</c>, <c>ok</c>, or why the policy was refused (rollouts in progress are then frozen).</param>
public sealed record RepositoryRollout(RolloutSchedule Schedule, IReadOnlyDictionary<string, VersionRollout> Versions, string Policy)
{
    public const string NoPolicy = "none";
    public const string PolicyOk = "ok";

    public bool PolicyFailed => Policy is not (NoPolicy or PolicyOk);

    public VersionRollout? For(string version) => Versions.GetValueOrDefault(version);

    /// <summary>The files offered to <paramref name="machine"/>; with no machine, those of complete versions only.</summary>
    public IReadOnlyList<SysextFile> Offered(IReadOnlyList<SysextFile> files, MachineHash? machine, string repository) =>
        [.. files.Where(file => Versions.GetValueOrDefault(file.Version) is not { } state
            || state.Complete
            || (machine is { } hash && state.OfferedTo(hash, repository)))];

    /// <summary>
    /// The versions <paramref name="machine"/> does not get (in progress, not offered to it), in order: with the
    /// snapshot, what its list is made of. Not the versions in progress it is offered: those stay the same while
    /// another version completes or is promoted, and a list cached under them would go on leaving that one out.
    /// </summary>
    public string Withheld(MachineHash? machine, string repository) =>
        string.Join('\n', Versions.Values
            .Where(state => !state.Complete && !(machine is { } hash && state.OfferedTo(hash, repository)))
            .Select(state => state.Version)
            .Order(StringComparer.Ordinal));
}
