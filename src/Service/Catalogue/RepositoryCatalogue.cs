using SysextFunctions.Rollouts;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Catalogue;

/// <summary>
/// What one repository offers, as the page, the JSON and the transfer definition show it: its files from the same
/// snapshot SHA256SUMS is made from, and what vouches for them.
/// </summary>
/// <param name="Repository">The client-facing repository (the path the client used, not the upstream name).</param>
/// <param name="Name">Its last segment, which starts every file name.</param>
/// <param name="ListSigned">Whether SHA256SUMS comes with our OpenPGP signature (<c>Verify=yes</c> works).</param>
/// <param name="Publisher">What the publisher check (cosign keys, <c>Trust:CosignKeys</c>) says, or null when none is configured.</param>
/// <param name="Rollout">Where each version's rollout stands, or null when no schedule applies.</param>
public sealed record RepositoryCatalogue(string Repository, string Name, IReadOnlyList<SysextFile> Files, bool ListSigned, string? Publisher = null, RepositoryRollout? Rollout = null)
{
    /// <summary>Files by version, newest first (sysupdate's order, as near as <see cref="VersionOrder"/> gets), each by architecture.</summary>
    public IReadOnlyList<IGrouping<string, SysextFile>> Versions =>
        [.. Files.OrderBy(f => f.Architecture ?? "", StringComparer.Ordinal).ThenBy(f => f.Name, StringComparer.Ordinal)
            .GroupBy(f => f.Version, StringComparer.Ordinal)
            .OrderByDescending(g => g.Key, VersionOrder.Instance)];
}

/// <summary>
/// Version order close to sysupdate's (systemd's <c>strverscmp_improved</c>): runs of digits compare as numbers,
/// everything else character by character. Only for showing versions newest first; sysupdate decides for itself.
/// </summary>
public sealed class VersionOrder : IComparer<string>
{
    public static readonly VersionOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        x ??= "";
        y ??= "";
        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                var startX = i;
                var startY = j;
                while (i < x.Length && char.IsAsciiDigit(x[i]))
                {
                    i++;
                }

                while (j < y.Length && char.IsAsciiDigit(y[j]))
                {
                    j++;
                }

                var a = x[startX..i].TrimStart('0');
                var b = y[startY..j].TrimStart('0');
                var byNumber = a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);
                if (byNumber != 0)
                {
                    return byNumber;
                }

                continue;
            }

            if (x[i] != y[j])
            {
                return x[i].CompareTo(y[j]);
            }

            i++;
            j++;
        }

        return (x.Length - i).CompareTo(y.Length - j);
    }
}
