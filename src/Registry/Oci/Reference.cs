using System.Text.RegularExpressions;

namespace SysextFunctions.Registry.Oci;

/// <summary>
/// The distribution spec's grammar for repository names and tags:
/// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
/// </summary>
public static partial class Reference
{
    /// <summary>Registries limit the whole name, hostname included, to 255 characters.</summary>
    public const int MaxRepositoryLength = 255;

    public static bool IsValidRepository(ReadOnlySpan<char> name) =>
        name.Length is > 0 and <= MaxRepositoryLength && RepositoryPattern().IsMatch(name);

    public static bool IsValidTag(ReadOnlySpan<char> tag) => TagPattern().IsMatch(tag);

    [GeneratedRegex(@"\A[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex(@"\A[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();
}
