using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// File names as sysupdate sees them: <c>&lt;name&gt;-&lt;tag&gt;&lt;suffix&gt;</c>, where name is the last segment of
/// the repository. sysupdate matches names against <c>MatchPattern=</c> by suffix, and detects compression from
/// the bytes, so the suffix has to say what the payload is.
/// </summary>
public static class FileNaming
{
    /// <summary>Suffixes of sysext payloads, longest first so that <c>.raw.xz</c> wins over <c>.xz</c>-less forms.</summary>
    public static readonly string[] KnownSuffixes =
    [
        ".raw.zst", ".raw.xz", ".raw.gz", ".raw.bz2",
        ".img.zst", ".img.xz", ".img.gz",
        ".tar.zst", ".tar.xz", ".tar.gz", ".tar.bz2",
        ".raw", ".img", ".tar", ".tgz",
    ];

    /// <summary>The suffix of the file a layer becomes.</summary>
    public static string Suffix(Descriptor layer)
    {
        if (layer.Title is { } title && KnownSuffixes.FirstOrDefault(s => title.EndsWith(s, StringComparison.OrdinalIgnoreCase)) is { } titled)
        {
            return titled;
        }

        return layer.MediaType switch
        {
            MediaTypes.DockerLayerTarGzip or MediaTypes.OciLayerTarGzip => ".tar.gz",
            MediaTypes.OciLayerTarZstd => ".tar.zst",
            "application/vnd.docker.image.rootfs.diff.tar" or MediaTypes.OciLayerTar => ".tar",
            _ => ".raw",
        };
    }

    public static string FileName(string name, string tag, string suffix) => $"{name}-{tag}{suffix}";

    /// <summary>
    /// The tag a requested file name would come from, or null when the name cannot be one of ours (wrong prefix,
    /// unknown suffix, or what is left is no valid tag): such names are refused without asking the registry.
    /// </summary>
    public static string? CandidateTag(string name, string fileName)
    {
        var prefix = name + "-";
        if (!fileName.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var suffix = KnownSuffixes.FirstOrDefault(s => fileName.EndsWith(s, StringComparison.Ordinal));
        if (suffix is null)
        {
            return null;
        }

        var tag = fileName[prefix.Length..^suffix.Length];
        return Reference.IsValidTag(tag) ? tag : null;
    }
}
