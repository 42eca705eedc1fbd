using System.Text.Json.Serialization;
using SysextFunctions.Rollouts;

namespace SysextFunctions.Catalogue;

/// <summary>
/// The catalogue for programs: <c>{"repository": "...", "files": [{"name", "tag", "architecture", "size", "digest",
/// "created"}], "versions": [{"version", "published", "phased", "share", "nextStep", "halted", "promoted"}],
/// "rolloutSteps", "rolloutPolicy"}</c>. Every field is always present: <c>architecture</c> (systemd's identifier)
/// and <c>created</c> (RFC 3339, UTC) are null when unknown; <c>digest</c> is <c>sha256:&lt;hex&gt;</c>. Files are
/// ordered by name, as in SHA256SUMS; versions newest first. Without a rollout schedule every version has
/// <c>phased</c> false and <c>share</c> 1, and <c>rolloutSteps</c> and <c>rolloutPolicy</c> are null; with one,
/// <c>rolloutPolicy</c> is <c>none</c>, <c>ok</c> or why the policy was refused.
/// </summary>
public sealed record CatalogueDocument(
    [property: JsonPropertyName("repository")] string Repository,
    [property: JsonPropertyName("files")] IReadOnlyList<CatalogueFile> Files,
    [property: JsonPropertyName("versions")] IReadOnlyList<CatalogueVersion> Versions,
    [property: JsonPropertyName("rolloutSteps")] string? RolloutSteps,
    [property: JsonPropertyName("rolloutPolicy")] string? RolloutPolicy)
{
    public static CatalogueDocument From(RepositoryCatalogue catalogue) => new(
        catalogue.Repository,
        [.. catalogue.Files.OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => new CatalogueFile(f.Name, f.Tag, f.Architecture, f.Size, f.Digest.ToString(), f.Created?.UtcDateTime))],
        [.. catalogue.Versions.Select(v => CatalogueVersion.From(v.Key, v.Select(f => f.Created).Max(), catalogue.Rollout?.For(v.Key)))],
        catalogue.Rollout?.Schedule.Text,
        catalogue.Rollout?.Policy);
}

public sealed record CatalogueFile(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("tag")] string Tag,
    [property: JsonPropertyName("architecture")] string? Architecture,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("created")] DateTime? Created);

/// <summary>Where one version's rollout stands: <c>share</c> is 0–1 now; <c>nextStep</c> is null when none is ahead.</summary>
public sealed record CatalogueVersion(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("published")] DateTime? Published,
    [property: JsonPropertyName("phased")] bool Phased,
    [property: JsonPropertyName("share")] double Share,
    [property: JsonPropertyName("nextStep")] CatalogueStep? NextStep,
    [property: JsonPropertyName("halted")] bool Halted,
    [property: JsonPropertyName("promoted")] bool Promoted)
{
    public static CatalogueVersion From(string version, DateTimeOffset? created, VersionRollout? rollout) => rollout is null
        ? new(version, created?.UtcDateTime, Phased: false, 1, null, Halted: false, Promoted: false)
        : new(version, rollout.Published?.UtcDateTime ?? created?.UtcDateTime, rollout.Phased, rollout.Share,
            rollout.Next is { } next ? new CatalogueStep(next.Share, next.At?.UtcDateTime) : null, rollout.Halted, rollout.Promoted);
}

/// <summary>The next step: its share, and when (null while halted).</summary>
public sealed record CatalogueStep(
    [property: JsonPropertyName("share")] double Share,
    [property: JsonPropertyName("at")] DateTime? At);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never, WriteIndented = true)]
[JsonSerializable(typeof(CatalogueDocument))]
public sealed partial class CatalogueJsonContext : JsonSerializerContext;
