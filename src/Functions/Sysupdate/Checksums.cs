using System.Text;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// Renders the SHA256SUMS file in the exact format sysupdate parses: <c>&lt;64 lowercase hex&gt;  &lt;name&gt;\n</c>
/// per file, nothing else. sysupdate refuses the whole file on a single line it cannot parse, so every line is
/// checked here rather than trusted.
/// </summary>
public static class Checksums
{
    /// <summary>Renders the files, ordered by name (ordinal) so that the bytes, and so the ETag, are stable.</summary>
    public static byte[] Render(IEnumerable<SysextFile> files)
    {
        var text = new StringBuilder();
        foreach (var file in files.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            if (!file.Digest.IsSha256 || file.Name.Length == 0 || file.Name.Any(c => c is < '!' or > '~'))
            {
                throw new ArgumentException($"'{file.Name}' cannot appear in SHA256SUMS", nameof(files));
            }

            text.Append(file.Digest.Encoded).Append("  ").Append(file.Name).Append('\n');
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }
}
