using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Registry.Layout;

/// <summary>The layouts below the root: every directory with an <c>index.json</c> whose path is a repository name.</summary>
public sealed partial class OciLayoutSource
{
    /// <summary>A walk stops after this many directories, whatever it found: the root may be a large disk.</summary>
    private const int MaxDirectoriesVisited = 10_000;

    /// <summary>Deeper than any repository name we would serve is sensible.</summary>
    private const int MaxDepth = 8;

    public Task<RepositoryList> ListRepositoriesAsync(int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        var found = new List<string>();
        var pending = new Queue<(string Path, string Name, int Depth)>();
        pending.Enqueue((_root, "", 0));
        var visited = 0;
        var truncated = false;
        var options = new EnumerationOptions { IgnoreInaccessible = true, RecurseSubdirectories = false, AttributesToSkip = FileAttributes.ReparsePoint };
        while (pending.TryDequeue(out var directory))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (++visited > MaxDirectoriesVisited || found.Count == max)
            {
                truncated = true;
                break;
            }

            var isLayout = directory.Depth > 0 && File.Exists(Path.Combine(directory.Path, "index.json"));
            if (isLayout && Reference.IsValidRepository(directory.Name))
            {
                found.Add(directory.Name);
            }

            if (directory.Depth == MaxDepth)
            {
                continue;
            }

            IEnumerable<string> children;
            try
            {
                children = Directory.EnumerateDirectories(directory.Path, "*", options).Order(StringComparer.Ordinal).ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (var child in children)
            {
                var segment = Path.GetFileName(child);
                // A layout's own blobs are no repositories, and their directories are the largest.
                if (isLayout && segment == "blobs")
                {
                    continue;
                }

                pending.Enqueue((child, directory.Depth == 0 ? segment : $"{directory.Name}/{segment}", directory.Depth + 1));
            }
        }

        found.Sort(StringComparer.Ordinal);
        return Task.FromResult(new RepositoryList(found, truncated));
    }
}
