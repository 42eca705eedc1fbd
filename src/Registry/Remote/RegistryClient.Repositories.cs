using System.Text.Json.Serialization;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Registry.Remote;

/// <summary>
/// The registry's repository list, <c>GET /v2/_catalog</c>: not in the OCI distribution spec, but served by
/// distribution (registry:2, Harbor, GitLab) and ACR; GHCR and Docker Hub refuse it. Paged like tag lists
/// (https://distribution.github.io/distribution/spec/api/#catalog), capped in pages, names and bytes: the list
/// comes from the registry and feeds a public page.
/// </summary>
public sealed partial class RegistryClient
{
    /// <summary>The most bytes one catalog page may have: 1 000 names of 255 characters fit easily.</summary>
    public const int MaxCatalogPageBytes = 1024 * 1024;

    private const int CatalogPageSize = 100;
    private const int MaxCatalogPages = 20;

    /// <summary>
    /// At most <paramref name="max"/> repositories, sorted (a registry may send them in any order, even a different
    /// one each time); <see cref="RepositoryList.Incomplete"/> when the registry repeated a page or went back.
    /// </summary>
    public async Task<RepositoryList> ListRepositoriesAsync(int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        var pageSize = Math.Min(max, CatalogPageSize);
        var listed = await ReadPagesAsync(
            new PagedListing<string>(
                "repository catalog",
                new Uri(BaseAddress, $"v2/_catalog?n={pageSize}"),
                pageSize,
                MaxCatalogPageBytes,
                // Names go on a page and into links: only what the grammar allows, whatever the registry sent.
                body => (ParseJson(body, RepositoryListJsonContext.Default.Catalog, "repository catalog")?.Repositories ?? [])
                    .Where(name => name is not null && Reference.IsValidRepository(name)),
                name => name,
                last => new Uri(BaseAddress, $"v2/_catalog?n={pageSize}&last={Uri.EscapeDataString(last)}"),
                MaxItems: max,
                MaxPages: MaxCatalogPages),
            cancellationToken).ConfigureAwait(false);
        return new RepositoryList([.. listed.Items.Order(StringComparer.Ordinal)], listed.End == PagingEnd.Truncated) { Incomplete = listed.End == PagingEnd.Incomplete };
    }

    /// <summary>The body of <c>GET /v2/_catalog</c>.</summary>
    internal sealed record Catalog
    {
        [JsonPropertyName("repositories")]
        public List<string>? Repositories { get; init; }
    }
}

[JsonSerializable(typeof(RegistryClient.Catalog))]
internal sealed partial class RepositoryListJsonContext : JsonSerializerContext;
