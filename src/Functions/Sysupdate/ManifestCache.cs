using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// Parsed manifests by digest, kept until space runs out: content addressed by its hash never changes, so an
/// entry can only be evicted, never be stale. Also remembers the digest each tag had when last seen, which tells
/// <see cref="CachingOciSource"/> whether a cheap HEAD can settle the tag. Bounded by
/// <see cref="CacheOptions.ManifestCacheBytes"/>, shared by every source.
/// </summary>
public sealed class ManifestCache : IDisposable
{
    // What a cache entry, the parsed objects and the key cost beyond the manifest's own bytes, roughly.
    private const int EntryOverhead = 512;
    private const int TagEntrySize = 256;

    private readonly MemoryCache _cache;

    public ManifestCache(IOptions<CacheOptions> options)
    {
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = Math.Max(options.Value.ManifestCacheBytes, 1) });
    }

    /// <summary>A cached manifest of <paramref name="repository"/> in the source <paramref name="scope"/>, or null.</summary>
    public ManifestResponse? Manifest(string scope, string repository, Digest digest) =>
        _cache.TryGetValue(ManifestKey(scope, repository, digest), out ManifestResponse? manifest) ? manifest : null;

    /// <summary>The digest <paramref name="tag"/> had when last fetched, or null when it was never seen.</summary>
    public Digest? LastSeen(string scope, string repository, string tag) =>
        _cache.TryGetValue(TagKey(scope, repository, tag), out Digest digest) ? digest : null;

    /// <summary>Keeps a manifest, and when it came from a tag, the tag's digest.</summary>
    public void Add(string scope, string repository, string? tag, ManifestResponse manifest)
    {
        _cache.Set(ManifestKey(scope, repository, manifest.Digest), manifest, new MemoryCacheEntryOptions { Size = manifest.Size + EntryOverhead });
        if (tag is not null)
        {
            _cache.Set(TagKey(scope, repository, tag), manifest.Digest, new MemoryCacheEntryOptions { Size = TagEntrySize });
        }
    }

    public void Dispose() => _cache.Dispose();

    // The repository is part of the key: a manifest cached from one repository must not vouch for another.
    private static string ManifestKey(string scope, string repository, Digest digest) => $"m|{scope}|{repository}|{digest}";

    private static string TagKey(string scope, string repository, string tag) => $"t|{scope}|{repository}|{tag}";
}
