using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;

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

    public ManifestCache(IOptions<CacheOptions> options, TimeProvider time)
    {
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = Math.Max(options.Value.ManifestCacheBytes, 1) });
        _tagRecheck = options.Value.TagRecheck;
        _time = time;
    }

    /// <summary>A cached manifest of <paramref name="repository"/> in the source <paramref name="scope"/>, or null.</summary>
    public ManifestResponse? Manifest(string scope, string repository, Digest digest) =>
        _cache.TryGetValue(ManifestKey(scope, repository, digest), out ManifestResponse? manifest) ? manifest : null;

    /// <summary>
    /// The digest the registry last named for <paramref name="tag"/>, and whether it is due to be asked about again
    /// (<see cref="CacheOptions.TagRecheck"/> has passed since; always, when that is zero); null when never seen.
    /// </summary>
    public TagSighting? Sighting(string scope, string repository, string tag) =>
        _cache.TryGetValue(TagKey(scope, repository, tag), out SeenTag? seen)
            ? new TagSighting(seen!.Digest, _time.GetUtcNow() - seen.At >= _tagRecheck)
            : null;

    /// <summary>Remembers that the registry named <paramref name="digest"/> for <paramref name="tag"/> just now.</summary>
    public void Saw(string scope, string repository, string tag, Digest digest) =>
        _cache.Set(TagKey(scope, repository, tag), new SeenTag(digest, _time.GetUtcNow()), new MemoryCacheEntryOptions { Size = TagEntrySize });

    /// <summary>Keeps a manifest, and when it came from a tag, the tag's digest as of now.</summary>
    public void Add(string scope, string repository, string? tag, ManifestResponse manifest)
    {
        _cache.Set(ManifestKey(scope, repository, manifest.Digest), manifest, new MemoryCacheEntryOptions { Size = manifest.Size + EntryOverhead });
        if (tag is not null)
        {
            Saw(scope, repository, tag, manifest.Digest);
        }
    }

    public void Dispose() => _cache.Dispose();

    // The repository is part of the key: a manifest cached from one repository must not vouch for another.
    private static string ManifestKey(string scope, string repository, Digest digest) => $"m|{scope}|{repository}|{digest}";

    private static string TagKey(string scope, string repository, string tag) => $"t|{scope}|{repository}|{tag}";

    private sealed record SeenTag(Digest Digest, DateTimeOffset At);
}

/// <summary>What <see cref="ManifestCache"/> knows of a tag: the digest last named for it, and whether to ask again.</summary>
public sealed record TagSighting(Digest Digest, bool Due);
