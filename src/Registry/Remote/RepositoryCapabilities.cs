using Microsoft.Extensions.Caching.Memory;

namespace SysextFunctions.Registry.Remote;

/// <summary>
/// What a registry showed it cannot do for one repository (its referrers API, Azure Container Registry's
/// <c>_tags</c>), remembered for <see cref="Recheck"/> and then asked again. Per repository, as ORAS .NET keeps its
/// referrers state per repository: what one repository, or one token's scope, cannot do says nothing about the
/// others. Only an answer that means "there is no such API here" is remembered; a refusal (401/403, which a
/// repository-scoped token without <c>metadata_read</c> gets) or a broken answer is not. Bounded, as the
/// repository names come from clients: at most <see cref="MaxRepositories"/> entries, the least recently used
/// going first.
/// </summary>
public sealed class RepositoryCapabilities : IDisposable
{
    /// <summary>How long a missing capability is taken as missing before the registry is asked again.</summary>
    public static readonly TimeSpan DefaultRecheck = TimeSpan.FromMinutes(10);

    public const int DefaultMaxRepositories = 10_000;

    private readonly TimeProvider _time;
    private readonly MemoryCache _missing;

    public RepositoryCapabilities(TimeProvider time, TimeSpan? recheck = null, int maxRepositories = DefaultMaxRepositories)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRepositories, 1);
        _time = time;
        Recheck = recheck ?? DefaultRecheck;
        MaxRepositories = maxRepositories;
        _missing = new MemoryCache(new MemoryCacheOptions { SizeLimit = maxRepositories, Clock = new MemoryCacheClock(time) });
    }

    public TimeSpan Recheck { get; }

    public int MaxRepositories { get; }

    /// <summary>How many (capability, repository) pairs are remembered as missing now.</summary>
    public int Count => _missing.Count;

    /// <summary>Whether <paramref name="capability"/> was found missing for <paramref name="repository"/> within <see cref="Recheck"/>.</summary>
    public bool Lacks(string capability, string repository) =>
        _missing.TryGetValue(Key(capability, repository), out DateTimeOffset until) && _time.GetUtcNow() < until;

    /// <summary>Remembers that the registry has no <paramref name="capability"/> for <paramref name="repository"/>, until <see cref="Recheck"/> has passed.</summary>
    public void Missing(string capability, string repository)
    {
        var until = _time.GetUtcNow() + Recheck;
        _missing.Set(Key(capability, repository), until, new MemoryCacheEntryOptions { AbsoluteExpiration = until, Size = 1 });
    }

    public void Dispose() => _missing.Dispose();

    private static string Key(string capability, string repository) => capability + " " + repository;
}
