namespace SysextFunctions.Registry;

/// <summary>Repository names a source listed, sorted, and whether it had more than were asked for.</summary>
public sealed record RepositoryList(IReadOnlyList<string> Repositories, bool Truncated)
{
    /// <summary>The registry's pages repeated or went back: it may have more repositories than it let us read.</summary>
    public bool Incomplete { get; init; }
}
