using System.Text.Json;
using System.Text.Json.Serialization;

namespace SysextFunctions.Registry.Oci;

/// <summary>
/// The two fields of an image config that date an image: <c>created</c> and the
/// <c>org.opencontainers.image.created</c> label. https://github.com/opencontainers/image-spec/blob/main/config.md
/// </summary>
public sealed record ImageConfig
{
    [JsonPropertyName("created")]
    public string? Created { get; init; }

    [JsonPropertyName("config")]
    public ImageConfigDetails? Config { get; init; }

    /// <summary>The config, or null when the bytes are not a JSON object of that shape.</summary>
    public static ImageConfig? TryParse(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, ImageConfigJsonContext.Default.ImageConfig);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The <c>config</c> object of an image config (the container's defaults).</summary>
public sealed record ImageConfigDetails
{
    [JsonPropertyName("Labels")]
    public Dictionary<string, string>? Labels { get; init; }
}

[JsonSerializable(typeof(ImageConfig))]
internal sealed partial class ImageConfigJsonContext : JsonSerializerContext;
