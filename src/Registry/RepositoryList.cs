namespace SysextFunctions.Registry;

/// <summary>Repository names a source listed, in its order, and whether it had more than were asked for.</summary>
public sealed record RepositoryList(IReadOnlyList<string> Repositories, bool Truncated);
