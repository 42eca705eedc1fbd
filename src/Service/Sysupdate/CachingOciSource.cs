using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// Any <see cref="IOciSource"/> with manifests cached by digest. A tag seen before is settled with a HEAD (the
/// registry's <c>Docker-Content-Digest</c>), and its manifest comes from the cache while the digest is unchanged;
/// a tag never seen is fetched with one GET, which says its digest too. Within <see cref="CacheOptions.TagRecheck"/>
/// of the registry naming a tag's digest, the tag costs no request. Tag lists and blobs pass through: the
/// listing is cached as a whole, with its time to live, by <see cref="SysextListing"/>.
/// </summary>
/// <param name="scope">
/// The upstream's configured id: two upstreams may hold repositories of the same name with different content, so
/// each gets its own key space, and the keys are the same in every instance of a scaled-out app.
/// </param>
public sealed class CachingOciSource(IOciSource inner, ManifestCache cache, string scope) : IOciSource, ITagDigestSource
{
    private readonly string _scope = scope;

    public Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken = default) =>
        inner.ListTagsAsync(repository, cancellationToken);

    /// <summary>The inner source's listing, with digests where it gives them (then no HEAD is needed for those tags).</summary>
    public Task<IReadOnlyList<ListedTag>> ListTagDigestsAsync(string repository, CancellationToken cancellationToken = default) =>
        inner.ListTaggedAsync(repository, cancellationToken);

    public async Task<ManifestResponse> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        if (Digest.TryParse(reference, out var digest))
        {
            return cache.Manifest(_scope, repository, digest) ?? Remember(repository, null, await inner.GetManifestAsync(repository, reference, cancellationToken).ConfigureAwait(false));
        }

        var seen = cache.Sighting(_scope, repository, reference);
        // Named by the registry recently enough (Cache:TagRecheck) and still held: no request at all.
        if (seen is { Due: false } && cache.Manifest(_scope, repository, seen.Digest) is { } current)
        {
            return current;
        }

        // A HEAD is only cheaper when it saves the GET, which it can only do for a tag whose manifest we may hold.
        if (seen is not null && await inner.ResolveAsync(repository, reference, cancellationToken).ConfigureAwait(false) is { } resolved)
        {
            if (cache.Manifest(_scope, repository, resolved) is { } known)
            {
                cache.Saw(_scope, repository, reference, resolved);
                return known;
            }

            // By digest, not by tag: the tag may move between the HEAD and the GET.
            return Remember(repository, reference, await inner.GetManifestAsync(repository, resolved.ToString(), cancellationToken).ConfigureAwait(false));
        }

        return Remember(repository, reference, await inner.GetManifestAsync(repository, reference, cancellationToken).ConfigureAwait(false));
    }

    public Task<Digest?> ResolveAsync(string repository, string tag, CancellationToken cancellationToken = default) =>
        inner.ResolveAsync(repository, tag, cancellationToken);

    public Task<BlobResponse> GetBlobAsync(string repository, Digest digest, bool followRedirects, CancellationToken cancellationToken = default) =>
        inner.GetBlobAsync(repository, digest, followRedirects, cancellationToken);

    public Uri? BlobUri(string repository, Digest digest) => inner.BlobUri(repository, digest);

    public Task<IReadOnlyList<Descriptor>?> GetReferrersAsync(string repository, Digest subject, CancellationToken cancellationToken = default) =>
        inner.GetReferrersAsync(repository, subject, cancellationToken);

    public Task<RepositoryList> ListRepositoriesAsync(int max, CancellationToken cancellationToken = default) =>
        inner.ListRepositoriesAsync(max, cancellationToken);

    private ManifestResponse Remember(string repository, string? tag, ManifestResponse manifest)
    {
        cache.Add(_scope, repository, tag, manifest);
        return manifest;
    }
}
