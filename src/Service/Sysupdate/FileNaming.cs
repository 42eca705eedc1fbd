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
            // Not in the image spec, but written by tools that follow its +suffix pattern for other compressions.
            "application/vnd.oci.image.layer.v1.tar+xz" => ".tar.xz",
            "application/vnd.docker.image.rootfs.diff.tar" => ".tar",
            // The generic type oras (and others) give any pushed file: the bytes may be anything, and sysexts are
            // disk images, so an untitled one is a .raw; a .tar comes only from a title that says so.
            _ => ".raw",
        };
    }

    public static string FileName(string name, string tag, string suffix) => $"{name}-{tag}{suffix}";

    /// <summary>The file of one platform of an index: <c>&lt;name&gt;-&lt;tag&gt;-&lt;arch&gt;&lt;suffix&gt;</c>.</summary>
    public static string FileName(string name, string tag, string architecture, string suffix) => $"{name}-{tag}-{architecture}{suffix}";

    /// <summary>
    /// Every tag a requested file name could come from: the tag of a single manifest (<c>name-T.raw</c> from tag
    /// <c>T</c>, even when T ends in an architecture, as in <c>v1.27.8-x86-64</c>, the tag style of the original Rust proxy's README), then the tag of an
    /// index with that architecture (<c>name-T-A.raw</c> from tag <c>T</c>, platform <c>A</c>).
    /// </summary>
    public static IReadOnlyList<string> CandidateTags(string name, string fileName)
    {
        if (CandidateTag(name, fileName) is not { } whole)
        {
            return [];
        }

        var candidates = new List<string> { whole };
        foreach (var architecture in Architectures.SystemdIdentifiers)
        {
            if (whole.Length > architecture.Length + 1 && whole.EndsWith("-" + architecture, StringComparison.Ordinal)
                && whole[..^(architecture.Length + 1)] is var tag && Reference.IsValidTag(tag))
            {
                candidates.Add(tag);
            }
        }

        return candidates;
    }

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
