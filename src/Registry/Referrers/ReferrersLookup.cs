using System.Security.Cryptography;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Registry.Referrers;

/// <summary>
/// Finds what refers to a manifest (signatures, attestations) in any <see cref="IOciSource"/>: the referrers API
/// where the source has it, else the referrers tag schema, and reads the small blobs such artifacts carry.
/// </summary>
public static class ReferrersLookup
{
    /// <summary>Referrers beyond this many are not looked at: a subject with more is being flooded.</summary>
    public const int MaxReferrers = 64;

    // Blobs of signatures are small; the body of one must not stall a listing for as long as a sysext download may take.
    private static readonly TimeSpan BlobReadTimeout = TimeSpan.FromSeconds(30);

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

    /// <summary>A small blob's bytes, refused beyond <paramref name="cap"/> bytes and checked against its digest.</summary>
    public static async Task<byte[]> ReadBlobAsync(IOciSource source, string repository, Digest digest, int cap, CancellationToken cancellationToken = default)
    {
        var what = $"blob '{repository}@{digest}'";
        if (!digest.IsSha256)
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, $"{what} is not a sha256 blob");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(BlobReadTimeout);
        try
        {
            using var blob = await source.GetBlobAsync(repository, digest, followRedirects: true, timeout.Token).ConfigureAwait(false);
            if (blob.Content is not { } stream || blob.Length > cap)
            {
                throw new RegistryException(RegistryFailure.InvalidResponse, blob.Content is null ? $"{what} was not sent" : $"{what} is larger than {cap} bytes");
            }

            var buffer = new byte[cap + 1];
            var length = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(length), timeout.Token).ConfigureAwait(false)) > 0)
            {
                length += read;
                if (length > cap)
                {
                    throw new RegistryException(RegistryFailure.InvalidResponse, $"{what} is larger than {cap} bytes");
                }
            }

            var bytes = buffer[..length];
            return Digest.Sha256(SHA256.HashData(bytes)) == digest
                ? bytes
                : throw new RegistryException(RegistryFailure.InvalidResponse, $"{what} does not match its digest");
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException(RegistryFailure.Timeout, $"{what} did not arrive in time", e);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new RegistryException(RegistryFailure.Unavailable, $"connection broke while reading {what}", e);
        }
    }
}
