using Microsoft.Extensions.Options;

namespace SysextFunctions.Sysupdate;

/// <summary>The <c>Cache</c> configuration section: how long listings live and how much is kept.</summary>
public sealed class CacheOptions
{
    public const string Section = "Cache";

    /// <summary>
    /// How long a repository's SHA256SUMS (its tag list and every tag's digest) is served before it is listed
    /// again. A pushed or re-pushed tag shows up at most this late; zero lists on every request.
    /// </summary>
    public TimeSpan ChecksumsTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many bytes of manifests are kept. Manifests are addressed by digest, so they never go stale.</summary>
    public long ManifestCacheBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// How many tags one listing resolves at once, at most: a registry's 429 (or 503 with Retry-After) halves it for
    /// that listing (see AdaptiveParallelism). Round trips, not bandwidth, bound a listing across a network.
    /// </summary>
    public int ResolveParallelism { get; set; } = 64;

    /// <summary>
    /// How long a tag's digest, once the registry named it, is taken as current without asking again. Zero (the
    /// default) asks about every tag on every listing, so a re-pushed tag shows up within <see cref="ChecksumsTtl"/>.
    /// For registries whose tags are never re-pushed (immutable tags), a longer time makes a listing one request
    /// for the tag list plus one per new tag, instead of one per tag; a re-pushed tag then shows up this late.
    /// </summary>
    public TimeSpan TagRecheck { get; set; } = TimeSpan.Zero;
}

public sealed class CacheOptionsValidation : IValidateOptions<CacheOptions>
{
    public ValidateOptionsResult Validate(string? name, CacheOptions options) =>
        options.ChecksumsTtl >= TimeSpan.Zero && options.TagRecheck >= TimeSpan.Zero && options.ManifestCacheBytes > 0 && options.ResolveParallelism > 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Cache:ChecksumsTtl and Cache:TagRecheck must not be negative; Cache:ManifestCacheBytes and Cache:ResolveParallelism must be positive");
}
