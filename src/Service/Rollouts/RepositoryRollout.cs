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

    /// <summary>The versions not yet offered to every machine, ordered by version (ordinal): what a machine's list can leave out.</summary>
    public IReadOnlyList<VersionRollout> InProgress { get; } =
        [.. Versions.Values.Where(state => !state.Complete).OrderBy(state => state.Version, StringComparer.Ordinal)];
}
