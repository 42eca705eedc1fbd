using SysextFunctions.Registry.Content;

namespace SysextFunctions.Sysupdate;

/// <summary>One file sysupdate can download: a layer blob under the name SHA256SUMS gives it.</summary>
/// <param name="Architecture">
/// systemd's architecture identifier (the <c>%a</c> of <c>MatchPattern=</c>) the name ends in: the platform of an
/// index entry, or the end of a tag that carries the architecture (<c>v1.27.8-x86-64</c>, the style of the original Rust proxy's README); null when the name has none.
/// </param>
/// <param name="Created">The <c>org.opencontainers.image.created</c> annotation of the manifest (or of its index).</param>
/// <param name="Description">The <c>org.opencontainers.image.description</c> annotation, as the publisher wrote it: never trusted as markup.</param>
/// <param name="Config">
/// The image config to read a creation date from, when the manifest has none and its config is a small image config
/// (Docker and OCI images keep <c>created</c> there); only read for the catalogue, never for SHA256SUMS.
/// </param>
public sealed record SysextFile(
    string Name,
    string Tag,
    Digest Digest,
    long Size,
    string? Architecture = null,
    DateTimeOffset? Created = null,
    string? Description = null,
    Digest? Config = null)
{
    /// <summary>The version sysupdate sees for this file (<c>@v</c>): the tag, without an architecture it ends in.</summary>
    public string Version => Architecture is { } architecture && Tag.EndsWith("-" + architecture, StringComparison.Ordinal) && Tag.Length > architecture.Length + 1
        ? Tag[..^(architecture.Length + 1)]
        : Tag;
}
