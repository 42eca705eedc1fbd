using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SysextFunctions.Hosting;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Registry.Remote;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// The sysupdate view of a repository: which files exist, with which digests. Tags map to files through their
/// manifests; a tag whose manifest we cannot use is skipped with a logged reason and never breaks the listing.
/// </summary>
public sealed partial class SysextCatalogue(HybridCache cache, IOptions<CacheOptions> options, ILogger<SysextCatalogue> logger)
{
    private static readonly ConditionalWeakTable<IOciSource, string> SourceKeys = [];
    private static int s_sources;

    /// <summary>
    /// The files of a repository and the SHA256SUMS for them. <paramref name="name"/> is the client-facing name
    /// that starts every file name. Throws <see cref="RegistryException"/> (NotFound) for an unknown repository.
    /// Snapshots live for <see cref="CacheOptions.ChecksumsTtl"/>; concurrent requests for one repository share
    /// one listing, so a fleet asking at once costs the registry one round of requests.
    /// </summary>
    public async Task<RepositorySnapshot> SnapshotAsync(Upstream upstream, string name, CancellationToken cancellationToken = default)
    {
        var ttl = options.Value.ChecksumsTtl;
        if (ttl <= TimeSpan.Zero)
        {
            return RepositorySnapshot.Create(await ListAsync(upstream, name, cancellationToken).ConfigureAwait(false));
        }

        return await cache.GetOrCreateAsync(
            $"snapshot|{SourceKeys.GetValue(upstream.Source, NextSourceKey)}|{upstream.Repository}|{name}",
            (Catalogue: this, Upstream: upstream, Name: name),
            static async (state, ct) => RepositorySnapshot.Create(await state.Catalogue.ListAsync(state.Upstream, state.Name, ct).ConfigureAwait(false)),
            new HybridCacheEntryOptions { Expiration = ttl, LocalCacheExpiration = ttl },
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>All files of a repository, ordered by name.</summary>
    public async Task<IReadOnlyList<SysextFile>> ListAsync(Upstream upstream, string name, CancellationToken cancellationToken = default)
    {
        var tags = await upstream.Source.ListTagsAsync(upstream.Repository, cancellationToken).ConfigureAwait(false);
        var perTag = new IReadOnlyList<SysextFile>[tags.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, tags.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(options.Value.ResolveParallelism, 1), CancellationToken = cancellationToken },
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

    // Sources are long-lived singletons; a number per instance keeps cache keys apart without asking sources for a name.
    private static string NextSourceKey(IOciSource source) => Interlocked.Increment(ref s_sources).ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "Skipping {Repository}:{Tag}: {Reason}")]
    private static partial void LogTagSkipped(ILogger logger, string repository, string tag, string reason);
}
