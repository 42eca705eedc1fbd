using System.Text.RegularExpressions;
using SysextFunctions.Registry.Content;

namespace SysextFunctions.Registry.Referrers;

/// <summary>
/// Tags that hold signatures and other referrers rather than versions: the OCI 1.1 referrers tag schema
/// (<c>sha256-&lt;hex&gt;</c>, https://github.com/opencontainers/distribution-spec/blob/main/spec.md#referrers-tag-schema)
/// and cosign's own (<c>sha256-&lt;hex&gt;.sig</c>, <c>.att</c>, <c>.sbom</c>).
/// </summary>
public static partial class ReferrerTags
{
    /// <summary>Whether <paramref name="tag"/> is a referrers or cosign tag, never a version.</summary>
    public static bool IsReferrerTag(string tag) => Pattern().IsMatch(tag);

    /// <summary>The referrers tag schema's tag for <paramref name="subject"/>: an index of its referrers.</summary>
    public static string SchemaTag(Digest subject) => $"{subject.Algorithm}-{subject.Encoded}";

    /// <summary>cosign 2's signature tag for <paramref name="subject"/>: a manifest with one layer per signature.</summary>
    public static string CosignSignatureTag(Digest subject) => $"{subject.Algorithm}-{subject.Encoded}.sig";

    [GeneratedRegex(@"\Asha256-[a-f0-9]{64}(\.(sig|att|sbom))?\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
