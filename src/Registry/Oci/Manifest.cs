using System.Text.Json;
using System.Text.Json.Serialization;

namespace SysextFunctions.Registry.Oci;

/// <summary>
/// An image manifest or an image index, read from one document: both families share the envelope, so
/// one type keeps parsing in one place and the caller looks at <see cref="MediaType"/>.
/// https://github.com/opencontainers/image-spec/blob/main/manifest.md,
/// https://github.com/opencontainers/image-spec/blob/main/image-index.md
/// </summary>
public sealed record Manifest
{
    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; }

    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; }

    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }

    [JsonPropertyName("config")]
    public Descriptor? Config { get; init; }

    [JsonPropertyName("layers")]
    public List<Descriptor>? Layers { get; init; }

    [JsonPropertyName("manifests")]
    public List<Descriptor>? Manifests { get; init; }

    [JsonPropertyName("annotations")]
    public Dictionary<string, string>? Annotations { get; init; }

    /// <summary>
    /// Parses a manifest document. The media type comes from the document when it names one, else from the
    /// response's Content-Type (the OCI spec makes the field optional).
    /// </summary>
    /// <exception cref="FormatException">The bytes are not a manifest we can read.</exception>
    public static Manifest Parse(ReadOnlySpan<byte> json, string? contentType)
    {
        Manifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(json, OciJsonContext.Default.Manifest);
        }
        catch (JsonException e)
        {
            throw new FormatException($"manifest is not valid JSON: {e.Message}", e);
        }

        if (manifest is null)
        {
            throw new FormatException("manifest is empty");
        }

        if (manifest.SchemaVersion != 2)
        {
            throw new FormatException($"unsupported manifest schemaVersion {manifest.SchemaVersion}");
        }

        return string.IsNullOrEmpty(manifest.MediaType) ? manifest with { MediaType = contentType } : manifest;
    }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Manifest))]
[JsonSerializable(typeof(TagList))]
[JsonSerializable(typeof(ErrorBody))]
internal sealed partial class OciJsonContext : JsonSerializerContext;

/// <summary>The body of <c>GET /v2/&lt;name&gt;/tags/list</c>.</summary>
internal sealed record TagList
{
    [JsonPropertyName("name")]
    public string? Name { get; init; }

    [JsonPropertyName("tags")]
    public List<string>? Tags { get; init; }
}

/// <summary>The distribution spec's error body: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes</summary>
internal sealed record ErrorBody
{
    [JsonPropertyName("errors")]
    public List<ErrorEntry>? Errors { get; init; }

    internal sealed record ErrorEntry
    {
        [JsonPropertyName("code")]
        public string? Code { get; init; }

        [JsonPropertyName("message")]
        public string? Message { get; init; }
    }
}
