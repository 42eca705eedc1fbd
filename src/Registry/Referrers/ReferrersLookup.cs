using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Registry.Referrers;

/// <summary>
/// Finds what refers to a manifest (signatures, attestations) in any <see cref="IOciSource"/>: the referrers API
/// where the source has it, else the referrers tag schema. The small blobs such artifacts carry are read with
/// <see cref="CappedBlob"/>.
/// </summary>
public static class ReferrersLookup
{
    /// <summary>Referrers beyond this many are not looked at: a subject with more is being flooded.</summary>
    public const int MaxReferrers = 64;

    /// <summary>
    /// The referrers of <paramref name="subject"/>, at most <see cref="MaxReferrers"/>. Without a referrers API the
    /// index under the tag <c>sha256-&lt;hex&gt;</c> is read; <paramref name="knownTags"/> (the repository's tags,
    /// when the caller has them) saves asking for a tag that does not exist.
    /// </summary>
    public static async Task<IReadOnlyList<Descriptor>> ListAsync(IOciSource source, string repository, Digest subject, IReadOnlySet<string>? knownTags, CancellationToken cancellationToken = default)
    {
        if (await source.GetReferrersAsync(repository, subject, cancellationToken).ConfigureAwait(false) is { } listed)
        {
            return [.. listed.Take(MaxReferrers)];
        }

        var tag = ReferrerTags.SchemaTag(subject);
        if (await TryGetManifestAsync(source, repository, tag, knownTags, cancellationToken).ConfigureAwait(false) is not { } index
            || !MediaTypes.IsIndex(index.Manifest.MediaType))
        {
            return [];
        }

        return [.. (index.Manifest.Manifests ?? []).Take(MaxReferrers)];
    }

    /// <summary>The manifest under <paramref name="tag"/>, or null when the tag does not exist.</summary>
    public static async Task<ManifestResponse?> TryGetManifestAsync(IOciSource source, string repository, string tag, IReadOnlySet<string>? knownTags, CancellationToken cancellationToken = default)
    {
        if (knownTags is not null && !knownTags.Contains(tag))
        {
            return null;
        }

        try
        {
            return await source.GetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException e) when (e.Failure == RegistryFailure.NotFound)
        {
            return null;
        }
    }
}
