using Microsoft.Extensions.Logging;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Registry.Layout;

/// <summary>
/// OCI image layouts on disk (https://github.com/opencontainers/image-spec/blob/main/image-layout.md), one per
/// repository: <c>&lt;root&gt;/&lt;repository&gt;/index.json</c> names tags by the
/// <c>org.opencontainers.image.ref.name</c> annotation, blobs live in <c>blobs/sha256/&lt;hex&gt;</c>. This is what
/// <c>oras push --oci-layout &lt;root&gt;/&lt;repository&gt;:&lt;tag&gt;</c>, <c>oras copy --to-oci-layout</c> and
/// <c>skopeo copy … oci:&lt;root&gt;/&lt;repository&gt;:&lt;tag&gt;</c> write. Files are read on every request,
/// so a layout can be updated in place (write blobs first, index.json last, as those tools do).
/// </summary>
public sealed partial class OciLayoutSource : IOciSource
{
    private readonly string _root;
    private readonly UpstreamTimeouts _timeouts;
    private readonly ILogger _logger;

    public OciLayoutSource(string root, UpstreamTimeouts timeouts, ILogger<OciLayoutSource> logger)
    {
        _root = Path.GetFullPath(root);
        _timeouts = timeouts;
        _logger = logger;
    }

    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken = default)
    {
        var index = await ReadIndexAsync(repository, cancellationToken).ConfigureAwait(false);
        return [.. (index.Manifests ?? []).Select(RefName).OfType<string>().Distinct(StringComparer.Ordinal)];
    }

    public async Task<ManifestResponse> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        var what = $"manifest '{repository}:{reference}'";
        var index = await ReadIndexAsync(repository, cancellationToken).ConfigureAwait(false);
        Descriptor? descriptor;
        Digest digest;
        if (Digest.TryParse(reference, out digest))
        {
            // By digest: any blob of the layout; the index may still say which media type it has.
            descriptor = index.Manifests?.FirstOrDefault(m => m.Digest == reference);
        }
        else
        {
            descriptor = index.Manifests?.FirstOrDefault(m => RefName(m) == reference)
                ?? throw new RegistryException(RegistryFailure.NotFound, $"{what} not found");
            if (!Digest.TryParse(descriptor.Digest, out digest))
            {
                throw new RegistryException(RegistryFailure.InvalidResponse, $"{what}: index.json holds an invalid digest");
            }
        }

        var bytes = await ReadBlobAsync(repository, digest, ManifestResponse.MaxBytes, what, cancellationToken).ConfigureAwait(false);
        return ManifestResponse.Parse(digest, bytes, descriptor?.MediaType, what);
    }

    public async Task<Digest?> ResolveAsync(string repository, string tag, CancellationToken cancellationToken = default)
    {
        var index = await ReadIndexAsync(repository, cancellationToken).ConfigureAwait(false);
        var descriptor = index.Manifests?.FirstOrDefault(m => RefName(m) == tag);
        return Digest.TryParse(descriptor?.Digest, out var digest) && digest.IsSha256 ? digest : null;
    }

    /// <summary>Always the file's bytes: a directory has no storage to redirect to.</summary>
    public Task<BlobResponse> GetBlobAsync(string repository, Digest digest, bool followRedirects, CancellationToken cancellationToken = default)
    {
        var what = $"blob '{repository}@{digest}'";
        try
        {
            var stream = new FileStream(BlobPath(repository, digest, what), FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult(BlobResponse.FromStream(stream, stream.Length, idleTimeout: _timeouts.Idle));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(e, what);
        }
    }

    public Uri? BlobUri(string repository, Digest digest) => null;

    private async Task<Manifest> ReadIndexAsync(string repository, CancellationToken cancellationToken)
    {
        var what = $"index.json of '{repository}'";
        if (!Reference.IsValidRepository(repository))
        {
            throw new RegistryException(RegistryFailure.NotFound, $"repository '{repository}' not found");
        }

        byte[] bytes;
        try
        {
            var path = Path.Combine(_root, repository, "index.json");
            if (new FileInfo(path).Length > ManifestResponse.MaxBytes)
            {
                throw new RegistryException(RegistryFailure.InvalidResponse, $"{what} is larger than {ManifestResponse.MaxBytes} bytes");
            }

            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw e is FileNotFoundException or DirectoryNotFoundException
                ? new RegistryException(RegistryFailure.NotFound, $"repository '{repository}' not found", e)
                : Failure(e, what);
        }

        return ManifestResponse.ParseManifest(bytes, MediaTypes.OciIndex, what);
    }

    private async Task<byte[]> ReadBlobAsync(string repository, Digest digest, int cap, string what, CancellationToken cancellationToken)
    {
        // Content-addressed: a blob whose bytes do not hash to its name is corrupt (a torn copy, a bad stick).
        try
        {
            var path = BlobPath(repository, digest, what);
            await using var file = File.OpenRead(path);
            return await CappedBlob.ReadAsync(file, file.Length, digest, cap, what, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(e, what);
        }
    }

    private string BlobPath(string repository, Digest digest, string what)
    {
        // Only sha256 blobs can become sysupdate files; the digest grammar keeps the name a plain hex string.
        if (!digest.IsSha256)
        {
            throw new RegistryException(RegistryFailure.NotFound, $"{what} not found");
        }

        return Path.Combine(_root, repository, "blobs", digest.Algorithm, digest.Encoded);
    }

    private RegistryException Failure(Exception e, string what)
    {
        if (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new RegistryException(RegistryFailure.NotFound, $"{what} not found", e);
        }

        LogReadFailure(_logger, what, e);
        return new RegistryException(RegistryFailure.Unavailable, $"{what} could not be read", e);
    }

    private static string? RefName(Descriptor descriptor) =>
        descriptor.Annotations?.GetValueOrDefault(Descriptor.RefNameAnnotation) is { } name && Reference.IsValidTag(name) ? name : null;

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Reading {What} from the OCI layout failed")]
    private static partial void LogReadFailure(ILogger logger, string what, Exception exception);
}
