using System.Text.Json.Serialization;

namespace SysextFunctions.Registry.Oci;

/// <summary>A content descriptor: https://github.com/opencontainers/image-spec/blob/main/descriptor.md</summary>
public sealed record Descriptor
{
    /// <summary>The annotation oras sets to the pushed file's name.</summary>
    public const string TitleAnnotation = "org.opencontainers.image.title";

    /// <summary>The annotation that names a manifest in an OCI image layout's index.json (its tag).</summary>
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; }

    [JsonPropertyName("digest")]
    public string? Digest { get; init; }

    [JsonPropertyName("size")]
    public long Size { get; init; }

    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }

    [JsonPropertyName("annotations")]
    public Dictionary<string, string>? Annotations { get; init; }

    [JsonPropertyName("platform")]
    public Platform? Platform { get; init; }

    [JsonIgnore]
    public string? Title => Annotations is not null && Annotations.TryGetValue(TitleAnnotation, out var title) ? title : null;
}

/// <summary>The platform of an index entry: https://github.com/opencontainers/image-spec/blob/main/image-index.md</summary>
public sealed record Platform
{
    [JsonPropertyName("architecture")]
    public string? Architecture { get; init; }

    [JsonPropertyName("os")]
    public string? Os { get; init; }

    [JsonPropertyName("variant")]
    public string? Variant { get; init; }
}
