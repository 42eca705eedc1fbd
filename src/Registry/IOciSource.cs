using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Registry;

/// <summary>
/// Where OCI content comes from: a registry over the distribution API, or an OCI image layout on disk.
/// Failures are <see cref="RegistryException"/>s, whatever the source.
/// </summary>
public interface IOciSource
{
    /// <summary>Every tag of a repository; NotFound for an unknown repository.</summary>
    Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken = default);

    /// <summary>The manifest a tag or digest points at, checked against its digest.</summary>
    Task<ManifestResponse> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default);

    /// <summary>The digest a tag points at, cheaply, or null when the source cannot say without the manifest.</summary>
    Task<Digest?> ResolveAsync(string repository, string tag, CancellationToken cancellationToken = default);

    /// <summary>A blob: a redirect to the source's storage (only when <paramref name="followRedirects"/> is false) or its bytes.</summary>
    Task<BlobResponse> GetBlobAsync(string repository, Digest digest, bool followRedirects, CancellationToken cancellationToken = default);

    /// <summary>An anonymous URL clients can fetch the blob from themselves, or null when there is none.</summary>
    Uri? BlobUri(string repository, Digest digest);

    /// <summary>
    /// The manifests whose <c>subject</c> is <paramref name="subject"/>, from the OCI 1.1 referrers API
    /// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers), or null when the
    /// source has no such API: then <see cref="Referrers.ReferrersLookup"/> falls back to the referrers tag schema.
    /// </summary>
    Task<IReadOnlyList<Descriptor>?> GetReferrersAsync(string repository, Digest subject, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<Descriptor>?>(null);

    /// <summary>
    /// The source's repositories, at most <paramref name="max"/> (<see cref="RepositoryList.Truncated"/> says when
    /// there were more). A registry may refuse: then a <see cref="RegistryException"/> (Denied, NotFound, …).
    /// </summary>
    Task<RepositoryList> ListRepositoriesAsync(int max, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("this source does not list its repositories");
}
