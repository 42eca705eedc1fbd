using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Registry.Remote;

namespace SysextFunctions.Upstreams.Acr;

/// <summary>How an upstream's tags are listed (<c>Registry:TagListing</c>).</summary>
public enum TagListingMode
{
    /// <summary>Azure Container Registry's <c>_tags</c> for hosts under <c>azurecr.io</c> (and its sovereign clouds), else the distribution API.</summary>
    Auto,

    /// <summary>Azure Container Registry's <c>_tags</c>, whatever the host (a registry behind a custom domain).</summary>
    Acr,

    /// <summary>The distribution API's <c>tags/list</c> only.</summary>
    Distribution,
}

/// <summary>
/// Lists tags with their digests through Azure Container Registry's own API,
/// <c>GET /acr/v1/&lt;repository&gt;/_tags?n=100</c> (https://learn.microsoft.com/rest/api/containerregistry/tag/get-list):
/// each tag comes with the digest it points at, 100 to a page, the next page in a <c>Link</c> header. A listing
/// then costs one request per page plus one per manifest not seen before, instead of one per tag. Everything else
/// goes to the distribution API of the wrapped <see cref="RegistryClient"/>; so does the listing when <c>_tags</c>
/// is missing, refused or broken. Only missing (a 404 where the distribution API finds the repository: a registry
/// that only looks like ACR) is remembered, for that repository, for <see cref="RepositoryCapabilities.Recheck"/>
/// (<see cref="RegistryClient.Capabilities"/>); a refusal (a repository-scoped token without <c>metadata_read</c>)
/// or a broken answer falls back for that listing only.
/// </summary>
public sealed partial class AcrTagListing(RegistryClient client, ILogger<AcrTagListing> logger) : IOciSource, ITagDigestSource
{
    public const int PageSize = 100;
    private const int MaxPages = 10_000;

    private static readonly string[] AcrDomains = [".azurecr.io", ".azurecr.cn", ".azurecr.us"];

    /// <summary>The capability <see cref="RegistryClient.Capabilities"/> remembers for a repository without <c>_tags</c>.</summary>
    public const string TagsApi = "acr _tags";

    /// <summary>Whether <paramref name="registry"/> is an Azure Container Registry by its host name.</summary>
    public static bool IsAcrHost(Uri registry) =>
        AcrDomains.Any(domain => registry.Host.EndsWith(domain, StringComparison.OrdinalIgnoreCase));

    /// <summary><paramref name="client"/> with the ACR listing in front when <paramref name="mode"/> says so.</summary>
    public static IOciSource Wrap(RegistryClient client, TagListingMode mode, ILogger<AcrTagListing> logger) =>
        mode == TagListingMode.Acr || (mode == TagListingMode.Auto && IsAcrHost(client.BaseAddress))
            ? new AcrTagListing(client, logger)
            : client;

    public async Task<IReadOnlyList<ListedTag>> ListTagDigestsAsync(string repository, CancellationToken cancellationToken = default)
    {
        if (!client.Capabilities.Lacks(TagsApi, repository))
        {
            try
            {
                return await ListAcrAsync(repository, cancellationToken).ConfigureAwait(false);
            }
            catch (RegistryException e) when (e.Failure is RegistryFailure.NotFound or RegistryFailure.Denied or RegistryFailure.InvalidResponse)
            {
                // 404 is also ACR's answer for an unknown repository: then the distribution API says NotFound too.
                var tags = await client.ListTagsAsync(repository, cancellationToken).ConfigureAwait(false);
                if (e.Failure == RegistryFailure.NotFound)
                {
                    client.Capabilities.Missing(TagsApi, repository);
                }

                LogFallback(logger, client.BaseAddress.Authority, repository, e.Message);
                return [.. tags.Select(tag => new ListedTag(tag, null))];
            }
        }

        return [.. (await client.ListTagsAsync(repository, cancellationToken).ConfigureAwait(false)).Select(tag => new ListedTag(tag, null))];
    }

    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken = default) =>
        [.. (await ListTagDigestsAsync(repository, cancellationToken).ConfigureAwait(false)).Select(tag => tag.Name)];

    public Task<ManifestResponse> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default) =>
        client.GetManifestAsync(repository, reference, cancellationToken);

    public Task<Digest?> ResolveAsync(string repository, string tag, CancellationToken cancellationToken = default) =>
        client.ResolveAsync(repository, tag, cancellationToken);

    public Task<BlobResponse> GetBlobAsync(string repository, Digest digest, bool followRedirects, CancellationToken cancellationToken = default) =>
        client.GetBlobAsync(repository, digest, followRedirects, cancellationToken);

    public Uri? BlobUri(string repository, Digest digest) => client.BlobUri(repository, digest);

    public Task<IReadOnlyList<Descriptor>?> GetReferrersAsync(string repository, Digest subject, CancellationToken cancellationToken = default) =>
        client.GetReferrersAsync(repository, subject, cancellationToken);

    public Task<RepositoryList> ListRepositoriesAsync(int max, CancellationToken cancellationToken = default) =>
        client.ListRepositoriesAsync(max, cancellationToken);

    private async Task<IReadOnlyList<ListedTag>> ListAcrAsync(string repository, CancellationToken cancellationToken)
    {
        var tags = new List<ListedTag>();
        Uri? next = new(client.BaseAddress, $"acr/v1/{repository}/_tags?n={PageSize}");
        for (var page = 0; next is not null; page++)
        {
            if (page == MaxPages)
            {
                throw new RegistryException(RegistryFailure.InvalidResponse, $"ACR tag list of '{repository}' has more than {MaxPages} pages");
            }

            var (body, following) = await client.GetPageAsync(next, $"ACR tags of '{repository}'", MetadataScope(repository), cancellationToken).ConfigureAwait(false);
            AcrTagList? list;
            try
            {
                list = JsonSerializer.Deserialize(body, AcrJsonContext.Default.AcrTagList);
            }
            catch (JsonException e)
            {
                throw new RegistryException(RegistryFailure.InvalidResponse, $"ACR tag list of '{repository}' is not valid JSON", e);
            }

            foreach (var tag in list?.Tags ?? [])
            {
                if (string.IsNullOrEmpty(tag.Name))
                {
                    continue;
                }

                // A digest we cannot use only costs that tag its own request, as on the distribution API.
                tags.Add(new ListedTag(tag.Name, Digest.TryParse(tag.Digest, out var digest) && digest.IsSha256 ? digest : null));
            }

            next = following;
        }

        return tags;
    }

    /// <summary>ACR's <c>_tags</c> wants <c>metadata_read</c>, not <c>pull</c>: its token is cached under its own scope.</summary>
    private static string MetadataScope(string repository) => $"repository:{repository}:metadata_read";

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Registry {Registry} gave no ACR tag listing of {Repository} ({Reason}); listing through the distribution API")]
    private static partial void LogFallback(ILogger logger, string registry, string repository, string reason);
}

/// <summary>The body of ACR's <c>GET /acr/v1/&lt;repository&gt;/_tags</c>; only what a listing needs.</summary>
internal sealed record AcrTagList
{
    [JsonPropertyName("registry")]
    public string? Registry { get; init; }

    [JsonPropertyName("imageName")]
    public string? ImageName { get; init; }

    [JsonPropertyName("tags")]
    public IReadOnlyList<AcrTag>? Tags { get; init; }
}

internal sealed record AcrTag
{
    [JsonPropertyName("name")]
    public string? Name { get; init; }

    [JsonPropertyName("digest")]
    public string? Digest { get; init; }
}

[JsonSerializable(typeof(AcrTagList))]
internal sealed partial class AcrJsonContext : JsonSerializerContext;
