using System.Text.Json.Serialization;

namespace SysextFunctions.Catalogue;

/// <summary>
/// The catalogue for programs: <c>{"repository": "...", "files": [{"name", "tag", "architecture", "size", "digest",
/// "created"}]}</c>. Every field is always present: <c>architecture</c> (systemd's identifier) and <c>created</c>
/// (RFC 3339, UTC) are null when unknown; <c>digest</c> is <c>sha256:&lt;hex&gt;</c>. Files are ordered by name, as in
/// SHA256SUMS.
/// </summary>
public sealed record CatalogueDocument(
    [property: JsonPropertyName("repository")] string Repository,
    [property: JsonPropertyName("files")] IReadOnlyList<CatalogueFile> Files)
{
    public static CatalogueDocument From(RepositoryCatalogue catalogue) => new(
        catalogue.Repository,
        [.. catalogue.Files.OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => new CatalogueFile(f.Name, f.Tag, f.Architecture, f.Size, f.Digest.ToString(), f.Created?.UtcDateTime))]);
}

public sealed record CatalogueFile(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("tag")] string Tag,
    [property: JsonPropertyName("architecture")] string? Architecture,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("created")] DateTime? Created);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never, WriteIndented = true)]
[JsonSerializable(typeof(CatalogueDocument))]
public sealed partial class CatalogueJsonContext : JsonSerializerContext;
