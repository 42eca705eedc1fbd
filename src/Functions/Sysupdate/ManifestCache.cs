using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// Parsed manifests by digest, kept until space runs out: content addressed by its hash never changes, so an
/// entry can only be evicted, never be stale. Also remembers the digest each tag had when last seen, and when,
/// which tells <see cref="CachingOciSource"/> whether a cheap HEAD can settle the tag, or (within
/// <see cref="CacheOptions.TagRecheck"/>) no request at all. Bounded by <see cref="CacheOptions.ManifestCacheBytes"/>,
/// shared by every source.
/// </summary>
public sealed class ManifestCache : IDisposable
{
    // What a cache entry, the parsed objects and the key cost beyond the manifest's own bytes, roughly.
    private const int EntryOverhead = 512;
    private const int TagEntrySize = 256;

    private readonly MemoryCache _cache;
    private readonly TimeSpan _tagRecheck;
    private readonly TimeProvider _time;

    public ManifestCache(IOptions<CacheOptions> options, TimeProvider? time = null)
    {
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = Math.Max(options.Value.ManifestCacheBytes, 1) });
        _tagRecheck = options.Value.TagRecheck;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>A cached manifest of <paramref name="repository"/> in the source <paramref name="scope"/>, or null.</summary>
    public ManifestResponse? Manifest(string scope, string repository, Digest digest) =>
        _cache.TryGetValue(ManifestKey(scope, repository, digest), out ManifestResponse? manifest) ? manifest : null;

    /// <summary>The digest <paramref name="tag"/> had when last fetched, or null when it was never seen.</summary>
    public Digest? LastSeen(string scope, string repository, string tag) =>
        _cache.TryGetValue(TagKey(scope, repository, tag), out SeenTag? seen) ? seen!.Digest : null;

    /// <summary>
    /// The manifest <paramref name="tag"/> had when the registry last named its digest, if that was less than
    /// <see cref="CacheOptions.TagRecheck"/> ago and the manifest is still here; otherwise null, and the registry
    /// must be asked.
    /// </summary>
    public ManifestResponse? Current(string scope, string repository, string tag) =>
        _tagRecheck > TimeSpan.Zero
        && _cache.TryGetValue(TagKey(scope, repository, tag), out SeenTag? seen)
        && _time.GetUtcNow() - seen!.At < _tagRecheck
            ? Manifest(scope, repository, seen.Digest)
            : null;

    /// <summary>Keeps a manifest, and when it came from a tag, the tag's digest as of now.</summary>
    public void Add(string scope, string repository, string? tag, ManifestResponse manifest)
    {
        _cache.Set(ManifestKey(scope, repository, manifest.Digest), manifest, new MemoryCacheEntryOptions { Size = manifest.Size + EntryOverhead });
        if (tag is not null)
        {
            _cache.Set(TagKey(scope, repository, tag), new SeenTag(manifest.Digest, _time.GetUtcNow()), new MemoryCacheEntryOptions { Size = TagEntrySize });
        }
    }

    public void Dispose() => _cache.Dispose();

    // The repository is part of the key: a manifest cached from one repository must not vouch for another.
    private static string ManifestKey(string scope, string repository, Digest digest) => $"m|{scope}|{repository}|{digest}";

    private static string TagKey(string scope, string repository, string tag) => $"t|{scope}|{repository}|{tag}";

    private sealed record SeenTag(Digest Digest, DateTimeOffset At);
}
