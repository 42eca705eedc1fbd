using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Registry;
using SysextFunctions.Trust;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// The listing behind SHA256SUMS: the sysupdate view of a repository, which files exist, with which digests. Tags map
/// to files through their manifests; a tag whose manifest we cannot use is skipped with a logged reason and never
/// breaks the listing. (Not to be confused with the catalogue, Catalogue/, the page and JSON made from a listing, nor
/// with the registry's repository list, <c>RegistryClient.ListRepositoriesAsync</c>.)
/// </summary>
public sealed partial class SysextListing(
    HybridCache cache,
    IOptions<CacheOptions> options,
    ChecksumsSigner signer,
    SignatureVerifier verifier,
    TimeProvider time,
    ILogger<SysextListing> logger)
{
    /// <summary>
    /// The files of a repository and the SHA256SUMS for them, signed when a key is configured, in one snapshot. <paramref name="name"/> is the client-facing name
    /// that starts every file name. Throws <see cref="RegistryException"/> (NotFound) for an unknown repository.
    /// Snapshots live for <see cref="CacheOptions.ChecksumsTtl"/>; concurrent requests for one repository share
    /// one listing, so a fleet asking at once costs the registry one round of requests.
    /// </summary>
    public async Task<RepositorySnapshot> SnapshotAsync(Upstream upstream, string name, CancellationToken cancellationToken = default)
    {
        var ttl = options.Value.ChecksumsTtl;
        if (ttl <= TimeSpan.Zero)
        {
            return await SnapshotNowAsync(upstream, name, cancellationToken).ConfigureAwait(false);
        }

        return await cache.GetOrCreateAsync(
            // The upstream's configured id keeps sources apart, the same way in every instance of a scaled-out app;
            // two mappings may list one repository with different keys: the key set is part of what a listing is.
            // With a schedule the listing reads the rollout policy as well.
            $"snapshot|{upstream.RegistryId}|{upstream.Repository}|{name}|{upstream.CosignKeys?.Id}|{(upstream.Rollout is null ? "" : "rollout")}",
            (Catalogue: this, Upstream: upstream, Name: name),
            static (state, ct) => new ValueTask<RepositorySnapshot>(state.Catalogue.SnapshotNowAsync(state.Upstream, state.Name, ct)),
            new HybridCacheEntryOptions { Expiration = ttl, LocalCacheExpiration = ttl },
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A listing made now, stamped with the time it began (HTTP caching counts its age from there).</summary>
    private async Task<RepositorySnapshot> SnapshotNowAsync(Upstream upstream, string name, CancellationToken cancellationToken)
    {
        var listedAt = time.GetUtcNow();
        var (files, policy) = await ListWithPolicyAsync(upstream, name, cancellationToken).ConfigureAwait(false);
        return RepositorySnapshot.Create(files, signer, listedAt) with { Policy = policy };
    }

    /// <summary>All files of a repository, ordered by name.</summary>
    public async Task<IReadOnlyList<SysextFile>> ListAsync(Upstream upstream, string name, CancellationToken cancellationToken = default) =>
        (await ListWithPolicyAsync(upstream, name, cancellationToken).ConfigureAwait(false)).Files;

    /// <summary>All files of a repository, ordered by name, and its rollout policy when a schedule applies.</summary>
    private async Task<(IReadOnlyList<SysextFile> Files, PolicyRead Policy)> ListWithPolicyAsync(Upstream upstream, string name, CancellationToken cancellationToken)
    {
        // Where the listing names digests (ACR's _tags), a tag whose manifest is cached costs no request at all.
        var allTags = await upstream.Source.ListTaggedAsync(upstream.Repository, cancellationToken).ConfigureAwait(false);
        // Signatures, attestations, SBOMs and the rollout policy are never versions, but with keys they are what is
        // looked for, and only where the listing shows them.
        var tags = allTags.Where(tag => IsVersionTag(tag.Name)).ToList();
        IReadOnlySet<string>? knownTags = upstream.CosignKeys is null ? null : allTags.Select(tag => tag.Name).ToHashSet(StringComparer.Ordinal);
        var perTag = new IReadOnlyList<SysextFile>[tags.Count];
        var policy = upstream.Rollout is null ? Task.FromResult(PolicyRead.None) : ReadPolicyAsync(upstream, allTags, cancellationToken);
        await AdaptiveParallelism.ForEachAsync(
            tags.Count,
            options.Value.ResolveParallelism,
            async (i, ct) => perTag[i] = await FilesOfTagAsync(upstream, name, tags[i].Name, tags[i].Digest, probing: false, knownTags, ct).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);

        // Tag "v1-x86-64" and an index "v1" with an amd64 entry both make name-v1-x86-64.raw: the single manifest
        // wins, as it does in FindAsync, which tries the whole tag first.
        IReadOnlyList<SysextFile> files = [.. perTag.SelectMany(files => files)
            .GroupBy(f => f.Name, StringComparer.Ordinal)
            .Select(same => same.MaxBy(f => f.Tag.Length)!)
            .OrderBy(f => f.Name, StringComparer.Ordinal)];
        return (files, await policy.ConfigureAwait(false));
    }

    /// <summary>The file with this name, or null. Only the tags the name can come from are resolved.</summary>
    public async Task<SysextFile?> FindAsync(Upstream upstream, string name, string fileName, CancellationToken cancellationToken = default)
    {
        // At most a whole tag and one tag-without-architecture: tags like v1.27.8-x86-64 end in an architecture too.
        foreach (var tag in FileNaming.CandidateTags(name, fileName).Where(IsVersionTag))
        {
            var files = await FilesOfTagAsync(upstream, name, tag, digest: null, probing: true, knownTags: null, cancellationToken).ConfigureAwait(false);
            if (files.FirstOrDefault(f => f.Name == fileName) is { } file)
            {
                return file;
            }
        }

        return null;
    }

    /// <param name="digest">The digest the listing gave for the tag, if it did: the manifest is then asked for by digest.</param>
    /// <param name="probing">The tag is only a guess from a file name: that it does not exist is no news.</param>
    /// <param name="knownTags">The repository's tags, when listed: signature tags not among them are not asked for.</param>
    private async Task<IReadOnlyList<SysextFile>> FilesOfTagAsync(Upstream upstream, string name, string tag, Digest? digest, bool probing, IReadOnlySet<string>? knownTags, CancellationToken cancellationToken)
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
            response = await upstream.Source.GetManifestAsync(repository, digest?.ToString() ?? tag, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException e) when (e.Failure is RegistryFailure.NotFound or RegistryFailure.InvalidResponse)
        {
            // A tag deleted since the listing, or a manifest we cannot read: skip it, keep the rest.
            if (!probing || e.Failure != RegistryFailure.NotFound)
            {
                LogTagSkipped(logger, repository, tag, e.Message);
            }

            return [];
        }

        // With keys, only what a publisher signed: an index's signature covers its platform manifests by digest.
        if (!await IsTrustedAsync(upstream, tag, response.Digest, knownTags, cancellationToken).ConfigureAwait(false))
        {
            return [];
        }

        var manifest = response.Manifest;
        if (MediaTypes.IsIndex(manifest.MediaType))
        {
            return await FilesOfIndexAsync(upstream, name, tag, manifest, cancellationToken).ConfigureAwait(false);
        }

        return SingleLayer(repository, tag, manifest) is { } layer
            ? [ManifestFacts.Describe(new SysextFile(FileNaming.FileName(name, tag, FileNaming.Suffix(layer.Descriptor)), tag, layer.Digest, layer.Descriptor.Size), manifest)]
            : [];
    }

    /// <summary>One file per Linux platform of an index, each from its platform's single-layer manifest.</summary>
    private async Task<IReadOnlyList<SysextFile>> FilesOfIndexAsync(Upstream upstream, string name, string tag, Manifest index, CancellationToken cancellationToken)
    {
        var repository = upstream.Repository;
        var platforms = new List<(string Architecture, Digest Manifest)>();
        foreach (var entry in index.Manifests ?? [])
        {
            // Attestations (unknown/unknown), Windows and other operating systems have no systemd architecture.
            if (Architectures.Systemd(entry.Platform) is not { } architecture)
            {
                continue;
            }

            if (!Digest.TryParse(entry.Digest, out var digest) || !digest.IsSha256)
            {
                LogTagSkipped(logger, repository, tag, $"index entry digest '{entry.Digest}' is not a sha256 digest");
                continue;
            }

            // Two entries for one systemd architecture (arm v6 and v7 are both "arm"): the first one listed wins.
            if (platforms.Any(p => p.Architecture == architecture))
            {
                LogTagSkipped(logger, repository, $"{tag}@{digest}", $"a second entry for architecture {architecture}");
                continue;
            }

            platforms.Add((architecture, digest));
        }

        var files = await Task.WhenAll(platforms.Select(async platform =>
        {
            var what = $"{tag}-{platform.Architecture}";
            try
            {
                var child = await upstream.Source.GetManifestAsync(repository, platform.Manifest.ToString(), cancellationToken).ConfigureAwait(false);
                return SingleLayer(repository, what, child.Manifest) is { } layer
                    ? ManifestFacts.Describe(new SysextFile(FileNaming.FileName(name, tag, platform.Architecture, FileNaming.Suffix(layer.Descriptor)), tag, layer.Digest, layer.Descriptor.Size), child.Manifest, platform.Architecture, index)
                    : null;
            }
            catch (RegistryException e) when (e.Failure is RegistryFailure.NotFound or RegistryFailure.InvalidResponse)
            {
                LogTagSkipped(logger, repository, what, e.Message);
                return null;
            }
        })).ConfigureAwait(false);

        return [.. files.OfType<SysextFile>()];
    }

    /// <summary>The one layer of an image manifest, or null (logged) when the manifest cannot be a sysext.</summary>
    private (Descriptor Descriptor, Digest Digest)? SingleLayer(string repository, string tag, Manifest manifest)
    {
        if (!MediaTypes.IsImageManifest(manifest.MediaType))
        {
            LogTagSkipped(logger, repository, tag, $"manifest media type '{manifest.MediaType}' is not a single image manifest");
            return null;
        }

        if (manifest.Layers is not [var layer])
        {
            LogTagSkipped(logger, repository, tag, $"manifest has {manifest.Layers?.Count ?? 0} layers, a sysext needs exactly one");
            return null;
        }

        if (!Digest.TryParse(layer.Digest, out var digest) || !digest.IsSha256 || layer.Size < 0)
        {
            LogTagSkipped(logger, repository, tag, $"layer digest '{layer.Digest}' is not a sha256 digest");
            return null;
        }

        return (layer, digest);
    }

    /// <summary>Values from outside, escaped (<see cref="LogText"/>) whatever the console formatter.</summary>
    private static void LogTagSkipped(ILogger logger, string repository, string tag, string reason) =>
        LogTagSkippedRaw(logger, LogText.Escape(repository), LogText.Escape(tag), LogText.Escape(reason));

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Skipping {Repository}:{Tag}: {Reason}")]
    private static partial void LogTagSkippedRaw(ILogger logger, string repository, string tag, string reason);
}
