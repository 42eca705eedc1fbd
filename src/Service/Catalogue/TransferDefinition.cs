using System.Text;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Catalogue;

/// <summary>
/// A sysupdate transfer definition (sysupdate.d(5)) that works as it is, saved as
/// <c>/etc/sysupdate.d/50-&lt;name&gt;.transfer</c> (systemd 257 and later) or <c>.conf</c> (older): the source is
/// this server at the URL the client used, <c>MatchPattern=</c> comes from the names actually served, and the target
/// is the layout systemd-sysext reads (<c>/opt/extensions/&lt;name&gt;/</c>, made current through a link in
/// <c>/etc/extensions/</c>), the one the demo prints.
/// </summary>
public static class TransferDefinition
{
    /// <summary>Suffixes systemd-pull unpacks as tarballs (<c>Type=url-tar</c>) rather than copies as files.</summary>
    private static readonly string[] TarSuffixes = [".tar", ".tar.gz", ".tar.xz", ".tar.zst", ".tar.bz2", ".tgz"];

    /// <summary>What the definition matches: <c>&lt;name&gt;-@v[-%a]&lt;suffix&gt;</c>, and how many served names it leaves out.</summary>
    public sealed record Pattern(string Name, bool WithArchitecture, string Suffix, int Unmatched)
    {
        public bool IsTar => TarSuffixes.Contains(Suffix, StringComparer.Ordinal);

        public string Source => $"{Name}-@v{(WithArchitecture ? "-%a" : "")}{Suffix}";

        /// <summary>
        /// systemd-pull decompresses a raw image on the way (xz, gzip, bzip2, zstd when built with it), so what lands
        /// on disk is a plain <c>.raw</c>; a tarball is unpacked into a directory.
        /// </summary>
        public string Target => IsTar ? $"{Name}-@v" : $"{Name}-@v{(WithArchitecture ? "-%a" : "")}.raw";
    }

    /// <summary>
    /// The pattern that matches the most served files: those with an architecture in their name or those without,
    /// and one suffix. Ties go to names with an architecture, then to the suffix of the newest version. Without files
    /// yet, a raw image without architecture, the most common case.
    /// </summary>
    public static Pattern Derive(string name, IReadOnlyList<SysextFile> files)
    {
        if (files.Count == 0)
        {
            return new Pattern(name, WithArchitecture: false, ".raw", 0);
        }

        var newest = files.MaxBy(f => f.Version, VersionOrder.Instance)!;
        var best = files
            .GroupBy(f => (WithArchitecture: f.Architecture is not null, Suffix: SuffixOf(name, f)))
            .OrderByDescending(g => g.Count())
            .ThenByDescending(g => g.Key.WithArchitecture)
            .ThenByDescending(g => g.Any(f => f.Version == newest.Version))
            .ThenBy(g => g.Key.Suffix, StringComparer.Ordinal)
            .First();
        return new Pattern(name, best.Key.WithArchitecture, best.Key.Suffix, files.Count - best.Count());
    }

    /// <summary>sysupdate's specifier for the machine id (32 hex digits), expanded in <c>[Source] Path=</c>.</summary>
    public const string MachineSpecifier = "%m";

    /// <summary>The comment line that says what to run once before the first update.</summary>
    public const string SetupPrefix = "Before the first run: ";

    /// <summary>
    /// What a machine needs once: systemd-sysupdate (254) refuses to list or update when the target directory is
    /// missing, and cannot make the current link in a directory that does not exist.
    /// </summary>
    public static string Setup(string name) => $"mkdir -p /opt/extensions/{name} /etc/extensions";

    /// <param name="source">The repository's URL as the client reached it, without a trailing slash.</param>
    /// <param name="listSigned">Whether this server signs SHA256SUMS.</param>
    /// <param name="phased">
    /// A rollout schedule applies: the source is the machine-scoped path with <c>%m</c>, which sysupdate expands to
    /// the machine id, so that the same file on every machine takes part in the rollout.
    /// </param>
    public static string Render(string repository, string name, IReadOnlyList<SysextFile> files, Uri source, bool listSigned, bool phased = false)
    {
        var pattern = Derive(name, files);
        var path = source.AbsoluteUri.TrimEnd('/');
        if (phased && path.EndsWith("/" + repository, StringComparison.Ordinal))
        {
            path = $"{path[..^repository.Length]}{SysupdatePath.MachinePrefix}/{MachineSpecifier}/{repository}";
        }

        var text = new StringBuilder();
        text.Append("# systemd-sysupdate transfer definition for ").Append(repository).Append(", from ").Append(source.AbsoluteUri).Append('\n')
            .Append("# Save as /etc/sysupdate.d/50-").Append(name).Append(".transfer (systemd 257 and later)\n")
            .Append("# or /etc/sysupdate.d/50-").Append(name).Append(".conf (older), then run: systemd-sysupdate list / update\n")
            .Append("# sysupdate does not create the target directories. ").Append(SetupPrefix).Append(Setup(name)).Append('\n');
        if (files.Count == 0)
        {
            text.Append("# The repository has no usable tag yet: this assumes raw images without architecture.\n");
        }
        else if (pattern.Unmatched > 0)
        {
            text.Append("# ").Append(pattern.Unmatched).Append(" of ").Append(files.Count)
                .Append(" files served here have another suffix or architecture layout and are not matched.\n");
        }

        text.Append("\n[Transfer]\n");
        if (listSigned)
        {
            text.Append("# SHA256SUMS is signed (SHA256SUMS.gpg): add this server's public key to /etc/systemd/import-pubring.gpg.\n")
                .Append("Verify=yes\n");
        }
        else
        {
            text.Append("# Verify=no: this server has no signing key, so SHA256SUMS comes without a signature to verify.\n")
                .Append("Verify=no\n");
        }

        text.Append("\n[Source]\n");
        if (phased)
        {
            text.Append("# Phased rollout: new versions reach a growing share of machines; %m (the machine id) says which one asks.\n")
                .Append("# To keep the machine id to yourself, put an app-specific id in its place (systemd-id128 machine-id --app-specific=<uuid>).\n");
        }

        text.Append("Type=").Append(pattern.IsTar ? "url-tar" : "url-file").Append('\n')
            .Append("Path=").Append(path).Append('\n')
            .Append("MatchPattern=").Append(pattern.Source).Append('\n')
            .Append("\n[Target]\n")
            .Append("InstancesMax=3\n")
            .Append("Type=").Append(pattern.IsTar ? "directory" : "regular-file").Append('\n')
            .Append("Path=/opt/extensions/").Append(name).Append('\n')
            .Append("MatchPattern=").Append(pattern.Target).Append('\n')
            .Append("CurrentSymlink=/etc/extensions/").Append(name).Append(pattern.IsTar ? "" : ".raw").Append('\n');
        return text.ToString();
    }

    private static string SuffixOf(string name, SysextFile file) =>
        FileNaming.KnownSuffixes.FirstOrDefault(s => file.Name.EndsWith(s, StringComparison.Ordinal)) ?? file.Name[(name.Length + 1 + file.Tag.Length)..];
}
