using System.ComponentModel;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SysextFunctions.Registry;
using SysextFunctions.Sysupdate;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Catalogue;

/// <summary>
/// What this server serves, for the index page: with mappings exactly the mapped paths (a prefix is shown as one,
/// never enumerated: it may cover repositories nobody listed); without, the default registry's own repository list
/// when it gives one, capped at <see cref="MaxRepositories"/> and cached like a listing.
/// </summary>
public sealed partial class ServedRepositories(UpstreamResolver upstreams, HybridCache cache, IOptions<CacheOptions> options, ILogger<ServedRepositories> logger)
{
    public const int MaxRepositories = 1000;

    public async Task<ServedIndex> GetAsync(CancellationToken cancellationToken = default)
    {
        if (upstreams.Mappings.Count > 0)
        {
            return new ServedIndex(
                [.. upstreams.Mappings.Where(m => !m.IsPrefix).Select(m => m.Path).Order(StringComparer.Ordinal)],
                [.. upstreams.Mappings.Where(m => m.IsPrefix).Select(m => m.Path).Order(StringComparer.Ordinal)],
                FromMappings: true,
                Truncated: false,
                Refusal: null);
        }

        var ttl = options.Value.ChecksumsTtl;
        var listed = ttl <= TimeSpan.Zero
            ? await ListAsync(this, cancellationToken).ConfigureAwait(false)
            : await cache.GetOrCreateAsync(
                "served-repositories",
                this,
                static (self, ct) => ListAsync(self, ct),
                new HybridCacheEntryOptions { Expiration = ttl, LocalCacheExpiration = ttl },
                cancellationToken: cancellationToken).ConfigureAwait(false);
        return new ServedIndex(listed.Repositories, [], FromMappings: false, listed.Truncated, listed.Refusal) { Incomplete = listed.Incomplete };
    }

    /// <summary>
    /// The registry's list, or why it gave none. Refusals are an answer (cached like one); an unreachable or slow
    /// registry is an error for the edge to map.
    /// </summary>
    private static ValueTask<Listed> ListAsync(ServedRepositories self, CancellationToken cancellationToken) => self.ListAsync(cancellationToken);

    private async ValueTask<Listed> ListAsync(CancellationToken cancellationToken)
    {
        try
        {
            var list = await upstreams.DefaultSource.ListRepositoriesAsync(MaxRepositories, cancellationToken).ConfigureAwait(false);
            // Sorted whatever the source's order: a registry may send its list in a different order every time.
            return new Listed([.. list.Repositories.Order(StringComparer.Ordinal)], list.Truncated, null) { Incomplete = list.Incomplete };
        }
        catch (RegistryException e) when (e.Failure is RegistryFailure.Denied or RegistryFailure.NotFound or RegistryFailure.InvalidResponse)
        {
            LogRefused(logger, e.Message);
            return new Listed([], false, e.Message);
        }
        catch (NotSupportedException e)
        {
            return new Listed([], false, e.Message);
        }
    }

    /// <summary>Never changed once made, so HybridCache hands out the instance rather than a copy.</summary>
    [ImmutableObject(true)]
    private sealed record Listed(IReadOnlyList<string> Repositories, bool Truncated, string? Refusal)
    {
        public bool Incomplete { get; init; }
    }

    /// <summary>Values from outside, escaped (<see cref="LogText"/>) whatever the console formatter.</summary>
    private static void LogRefused(ILogger logger, string reason) =>
        LogRefusedRaw(logger, LogText.Escape(reason));

    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "The registry gives no repository list: {Reason}")]
    private static partial void LogRefusedRaw(ILogger logger, string reason);
}

/// <param name="Repositories">Exact repository paths, each served at <c>/&lt;path&gt;/</c>.</param>
/// <param name="Prefixes">Mapped prefixes (<c>tools</c> for <c>tools/*</c>, empty for <c>*</c>).</param>
/// <param name="Refusal">Why the registry gave no list, when it refused.</param>
public sealed record ServedIndex(IReadOnlyList<string> Repositories, IReadOnlyList<string> Prefixes, bool FromMappings, bool Truncated, string? Refusal)
{
    /// <summary>The registry's pages repeated or went back: it may serve repositories not shown.</summary>
    public bool Incomplete { get; init; }
}
