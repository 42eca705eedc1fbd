using System.Net.Http.Headers;
using System.Text.Json;
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

    public async Task<RepositoryList> ListRepositoriesAsync(int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        var names = new List<string>();
        Uri? next = new(BaseAddress, $"v2/_catalog?n={Math.Min(max, CatalogPageSize)}");
        for (var page = 0; next is not null; page++)
        {
            if (page == MaxCatalogPages || names.Count >= max)
            {
                return new RepositoryList(names[..Math.Min(names.Count, max)], Truncated: true);
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, next);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await SendMetadataAsync(request, "repository catalog", cancellationToken).ConfigureAwait(false);
            var body = await ReadCappedAsync(response, MaxCatalogPageBytes, "repository catalog", cancellationToken).ConfigureAwait(false);
            Catalog? catalog;
            try
            {
                catalog = JsonSerializer.Deserialize(body, CatalogJsonContext.Default.Catalog);
            }
            catch (JsonException e)
            {
                throw new RegistryException(RegistryFailure.InvalidResponse, "repository catalog is not valid JSON", e);
            }

            // Names go on a page and into links: only what the grammar allows, whatever the registry sent.
            names.AddRange((catalog?.Repositories ?? []).Where(name => name is not null && Reference.IsValidRepository(name)));
            next = LinkHeader.Next(response, next);
        }

        return names.Count > max ? new RepositoryList(names[..max], Truncated: true) : new RepositoryList(names, Truncated: false);
    }

    /// <summary>The body of <c>GET /v2/_catalog</c>.</summary>
    internal sealed record Catalog
    {
        [JsonPropertyName("repositories")]
        public List<string>? Repositories { get; init; }
    }
}

[JsonSerializable(typeof(RegistryClient.Catalog))]
internal sealed partial class CatalogJsonContext : JsonSerializerContext;
