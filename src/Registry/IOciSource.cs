using SysextFunctions.Registry.Content;

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
}
