using Microsoft.Extensions.Logging;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Registry.Remote;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// The sysupdate view of a repository: which files exist, with which digests. Tags map to files through their
/// manifests; a tag whose manifest we cannot use is skipped with a logged reason and never breaks the listing.
/// </summary>
public sealed partial class SysextCatalogue(ILogger<SysextCatalogue> logger, ChecksumsSigner? signer = null)
{
    /// <summary>How many manifests a cold listing resolves at once.</summary>
    public const int ResolveParallelism = 8;

    /// <summary>
    /// The files of a repository and the SHA256SUMS for them, signed when a key is configured, in one snapshot.
    /// <paramref name="name"/> is the client-facing name that starts every file name. Throws
    /// <see cref="RegistryException"/> (NotFound) for an unknown repository.
    /// </summary>
    public async Task<RepositorySnapshot> SnapshotAsync(Upstream upstream, string name, CancellationToken cancellationToken = default) =>
        RepositorySnapshot.Create(await ListAsync(upstream, name, cancellationToken).ConfigureAwait(false), signer);

    /// <summary>All files of a repository, ordered by name.</summary>
    public async Task<IReadOnlyList<SysextFile>> ListAsync(Upstream upstream, string name, CancellationToken cancellationToken = default)
    {
        var tags = await upstream.Source.ListTagsAsync(upstream.Repository, cancellationToken).ConfigureAwait(false);
        var perTag = new IReadOnlyList<SysextFile>[tags.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, tags.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ResolveParallelism, CancellationToken = cancellationToken },
            async (i, ct) => perTag[i] = await FilesOfTagAsync(upstream, name, tags[i], ct).ConfigureAwait(false)).ConfigureAwait(false);

        return [.. perTag.SelectMany(files => files).OrderBy(f => f.Name, StringComparer.Ordinal)];
    }

    /// <summary>The file with this name, or null. Only the one tag the name can come from is resolved.</summary>
    public async Task<SysextFile?> FindAsync(Upstream upstream, string name, string fileName, CancellationToken cancellationToken = default)
    {
        if (FileNaming.CandidateTag(name, fileName) is not { } tag)
        {
            return null;
        }

        var files = await FilesOfTagAsync(upstream, name, tag, cancellationToken).ConfigureAwait(false);
        return files.FirstOrDefault(f => f.Name == fileName);
    }

    private async Task<IReadOnlyList<SysextFile>> FilesOfTagAsync(Upstream upstream, string name, string tag, CancellationToken cancellationToken)
    {
        var repository = upstream.Repository;
        if (!Reference.IsValidTag(tag))
        {
            LogTagSkipped(logger, repository, tag, "tag outside the OCI tag grammar");
            return [];
        }

        ManifestResponse response;
        try
        {
            response = await upstream.Source.GetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException e) when (e.Failure is RegistryFailure.NotFound or RegistryFailure.InvalidResponse)
        {
            // A tag deleted since the listing, or a manifest we cannot read: skip it, keep the rest.
            LogTagSkipped(logger, repository, tag, e.Message);
            return [];
        }

        var manifest = response.Manifest;
        if (!MediaTypes.IsImageManifest(manifest.MediaType))
        {
            LogTagSkipped(logger, repository, tag, $"manifest media type '{manifest.MediaType}' is not a single image manifest");
            return [];
        }

        if (manifest.Layers is not [var layer])
        {
            LogTagSkipped(logger, repository, tag, $"manifest has {manifest.Layers?.Count ?? 0} layers, a sysext needs exactly one");
            return [];
        }

        if (!Digest.TryParse(layer.Digest, out var digest) || !digest.IsSha256 || layer.Size < 0)
        {
            LogTagSkipped(logger, repository, tag, $"layer digest '{layer.Digest}' is not a sha256 digest");
            return [];
        }

        return [new SysextFile(FileNaming.FileName(name, tag, FileNaming.Suffix(layer)), tag, digest, layer.Size)];
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Skipping {Repository}:{Tag}: {Reason}")]
    private static partial void LogTagSkipped(ILogger logger, string repository, string tag, string reason);
}
