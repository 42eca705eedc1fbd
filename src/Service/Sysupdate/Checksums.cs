using System.Text;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// Renders the SHA256SUMS file in the exact format sysupdate parses: <c>&lt;64 lowercase hex&gt;  &lt;name&gt;\n</c>
/// per file, nothing else. sysupdate refuses the whole file on a single line it cannot parse, so every line is
/// checked here rather than trusted.
/// </summary>
public static class Checksums
{
    /// <summary>
    /// The SHA-256 of the empty file, which the freshness marker line carries: systemd ≥ 260 reads
    /// <c>&lt;that hash&gt; *BEST-BEFORE-YYYY-MM-DD</c> as "refuse this list after that day"; older versions see a file
    /// name that no pattern matches and go on.
    /// </summary>
    public const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>
    /// What a list with nothing in it says instead of nothing: one line naming a file that no <c>MatchPattern=</c>
    /// of ours matches (file patterns start with the repository's name and a dash). systemd-pull 254 and 257 refuse an
    /// empty (or shorter than 6 bytes) download ("Premature connection termination.": it never saw enough bytes to
    /// tell whether the body is compressed), so an empty SHA256SUMS made their <c>update</c> fail where it should
    /// say "No update needed."; with this line 254, 257 and 262 all find no version and carry on (docs/rollouts.md).
    /// </summary>
    public const string NothingLine = EmptySha256 + "  NOTHING-OFFERED\n";

    /// <summary>
    /// Renders the files, ordered by name (ordinal) so that the bytes, and so the ETag, are stable; with
    /// <paramref name="bestBefore"/>, the freshness marker line first; never empty (<see cref="NothingLine"/>).
    /// </summary>
    public static byte[] Render(IEnumerable<SysextFile> files, DateOnly? bestBefore = null)
    {
        var text = new StringBuilder();
        if (bestBefore is { } date)
        {
            text.Append(EmptySha256).Append(" *BEST-BEFORE-").Append(date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }

        foreach (var file in files.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            if (!file.Digest.IsSha256 || file.Name.Length == 0 || file.Name.Any(c => c is < '!' or > '~'))
            {
                throw new ArgumentException($"'{file.Name}' cannot appear in SHA256SUMS", nameof(files));
            }

            text.Append(file.Digest.Encoded).Append("  ").Append(file.Name).Append('\n');
        }

        return Encoding.ASCII.GetBytes(text.Length == 0 ? NothingLine : text.ToString());
    }
}
