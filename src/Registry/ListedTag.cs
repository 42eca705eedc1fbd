using SysextFunctions.Registry.Content;

namespace SysextFunctions.Registry;

/// <summary>A tag from a listing, with the manifest digest it points at when the listing says.</summary>
public sealed record ListedTag(string Name, Digest? Digest);

/// <summary>
/// A source whose tag listing can name each tag's digest (Azure Container Registry's <c>_tags</c>), so that a
/// listing needs no request per tag for manifests it already holds.
/// </summary>
public interface ITagDigestSource
{
    /// <summary>Every tag of a repository, with its digest where the source knows it; NotFound for an unknown repository.</summary>
    Task<IReadOnlyList<ListedTag>> ListTagDigestsAsync(string repository, CancellationToken cancellationToken = default);
}

public static class TagListingExtensions
{
    /// <summary>The tags of a repository, with digests when <paramref name="source"/> can say, else without.</summary>
    public static async Task<IReadOnlyList<ListedTag>> ListTaggedAsync(this IOciSource source, string repository, CancellationToken cancellationToken = default) =>
        source is ITagDigestSource withDigests
            ? await withDigests.ListTagDigestsAsync(repository, cancellationToken).ConfigureAwait(false)
            : [.. (await source.ListTagsAsync(repository, cancellationToken).ConfigureAwait(false)).Select(tag => new ListedTag(tag, null))];
}
