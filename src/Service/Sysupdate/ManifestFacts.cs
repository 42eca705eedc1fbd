using System.Globalization;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// What a listing learns about a file besides its digest, from manifests it fetched anyway: the architecture its name
/// ends in, and the publisher's creation date and description. Costs no request; the catalogue reads image configs
/// later, and only for files that need it.
/// </summary>
public static class ManifestFacts
{
    /// <summary>https://github.com/opencontainers/image-spec/blob/main/annotations.md (RFC 3339 date-time).</summary>
    public const string CreatedAnnotation = "org.opencontainers.image.created";

    public const string DescriptionAnnotation = "org.opencontainers.image.description";

    /// <summary>Image configs larger than this are not read for a date: real ones are a few KiB.</summary>
    public const long MaxConfigBytes = 64 * 1024;

    /// <summary>A description longer than this is cut: the page shows a line, not a document.</summary>
    public const int MaxDescriptionLength = 300;

    /// <param name="architecture">The platform of an index entry; null for a single manifest, whose tag may end in one.</param>
    /// <param name="index">The index the manifest was listed in, whose annotations stand in for missing ones.</param>
    public static SysextFile Describe(SysextFile file, Manifest manifest, string? architecture = null, Manifest? index = null)
    {
        architecture ??= Architectures.SystemdIdentifiers.FirstOrDefault(a => file.Tag.Length > a.Length + 1 && file.Tag.EndsWith("-" + a, StringComparison.Ordinal));
        var created = Created(manifest.Annotations) ?? Created(index?.Annotations);
        var description = Annotation(manifest.Annotations, DescriptionAnnotation) ?? Annotation(index?.Annotations, DescriptionAnnotation);
        if (description is { Length: > MaxDescriptionLength })
        {
            description = description[..MaxDescriptionLength] + "…";
        }

        Digest? config = null;
        if (created is null && manifest.Config is { MediaType: MediaTypes.OciConfig or MediaTypes.DockerConfig, Size: > 0 and <= MaxConfigBytes } descriptor
            && Digest.TryParse(descriptor.Digest, out var digest) && digest.IsSha256)
        {
            config = digest;
        }

        return file with { Architecture = architecture, Created = created, Description = description, Config = config };
    }

    /// <summary>An RFC 3339 date-time, or null for anything else (the value comes from whoever pushed).</summary>
    public static DateTimeOffset? ParseCreated(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var created)
        && value!.Contains('T', StringComparison.OrdinalIgnoreCase)
            ? created
            : null;

    private static DateTimeOffset? Created(Dictionary<string, string>? annotations) => ParseCreated(Annotation(annotations, CreatedAnnotation));

    private static string? Annotation(Dictionary<string, string>? annotations, string key) =>
        annotations is not null && annotations.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;
}
