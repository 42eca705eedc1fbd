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

    /// <summary>The versions in progress offered to <paramref name="machine"/>, in order: what makes its list differ from another's.</summary>
    public string InProgressOffered(MachineHash? machine, string repository) =>
        string.Join('\n', Versions.Values
            .Where(state => !state.Complete && machine is { } hash && state.OfferedTo(hash, repository))
            .Select(state => state.Version)
            .Order(StringComparer.Ordinal));
}
