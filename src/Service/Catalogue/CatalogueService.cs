using SysextFunctions.Rollouts;
using SysextFunctions.Sysupdate;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Catalogue;

/// <summary>
/// Builds a repository's catalogue from the snapshot SHA256SUMS is served from (one listing, cached as it is), plus
/// creation dates from image configs where the manifests had none.
/// </summary>
public sealed class CatalogueService(SysextListing listing, ImageConfigDates dates, RolloutService rollouts)
{
    /// <param name="withConfigDates">Read image configs for missing dates; the transfer definition does without.</param>
    public async Task<RepositoryCatalogue> GetAsync(Upstream upstream, SysupdatePath path, bool withConfigDates, CancellationToken cancellationToken = default)
    {
        var snapshot = await listing.SnapshotAsync(upstream, path.Name, cancellationToken).ConfigureAwait(false);
        var files = withConfigDates ? await dates.FillAsync(upstream, snapshot.Files, cancellationToken).ConfigureAwait(false) : snapshot.Files;
        var rollout = await rollouts.GetAsync(upstream, snapshot, cancellationToken).ConfigureAwait(false);
        return new RepositoryCatalogue(path.Repository, path.Name, files, snapshot.Signature is not null, Publisher(upstream), rollout)
        {
            ListedAt = snapshot.ListedAt,
        };
    }

    /// <summary>With cosign keys, the listing holds only tags one of them signed (<see cref="SysextListing"/>), so every file shown is.</summary>
    private static string? Publisher(Upstream upstream) => upstream.CosignKeys is { } keys
        ? $"cosign: every version listed is signed by {(keys.Keys.Count == 1 ? "the publisher's key" : $"one of {keys.Keys.Count} publisher keys")}."
        : null;
}
