using SysextFunctions.Sysupdate;

namespace SysextFunctions.Catalogue;

/// <summary>
/// Builds a repository's catalogue from the snapshot SHA256SUMS is served from (one listing, cached as it is), plus
/// creation dates from image configs where the manifests had none.
/// </summary>
public sealed class CatalogueService(SysextCatalogue catalogue, ImageConfigDates dates, IPublisherTrust? publisher = null)
{
    /// <param name="withConfigDates">Read image configs for missing dates; the transfer definition does without.</param>
    public async Task<RepositoryCatalogue> GetAsync(Upstream upstream, SysupdatePath path, bool withConfigDates, CancellationToken cancellationToken = default)
    {
        var snapshot = await catalogue.SnapshotAsync(upstream, path.Name, cancellationToken).ConfigureAwait(false);
        var files = withConfigDates ? await dates.FillAsync(upstream, snapshot.Files, cancellationToken).ConfigureAwait(false) : snapshot.Files;
        return new RepositoryCatalogue(path.Repository, path.Name, files, snapshot.Signature is not null, publisher?.Describe(path.Repository));
    }
}
