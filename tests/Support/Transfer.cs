namespace SysextFunctions.Tests.Support;

/// <summary>
/// One sysupdate transfer definition (sysupdate.d(5)): the <c>[Transfer]</c>, <c>[Source]</c> and <c>[Target]</c>
/// sections the end-to-end tests hand to the real systemd-sysupdate, written as <c>50-{Name}.conf</c>.
/// </summary>
internal sealed record Transfer(string Name, TransferResource Source, TransferResource Target)
{
    public bool Verify { get; init; }

    public int InstancesMax { get; init; } = 2;

    /// <summary>Absolute, see <see cref="SysupdateTool.RunAsync"/>: the tests run sysupdate without <c>--root</c>.</summary>
    public string? CurrentSymlink { get; init; }

    public override string ToString() => $"""
        [Transfer]
        Verify={(Verify ? "yes" : "no")}

        [Source]
        Type={Source.Type}
        Path={Source.Path}
        MatchPattern={Source.MatchPattern}

        [Target]
        InstancesMax={InstancesMax}
        Type={Target.Type}
        Path={Target.Path}
        MatchPattern={Target.MatchPattern}
        """ + (CurrentSymlink is null ? "" : $"\nCurrentSymlink={CurrentSymlink}");

    /// <summary>Writes the definition into <c>definitions/</c> below <paramref name="dir"/> and returns that folder.</summary>
    public async Task<string> WriteAsync(TempDirectory dir)
    {
        var definitions = dir.CreateDirectory("definitions");
        await File.WriteAllTextAsync(Path.Combine(definitions, $"50-{Name}.conf"), ToString());
        return definitions;
    }
}

/// <summary>A <c>[Source]</c> or <c>[Target]</c> section: <c>Type=</c>, <c>Path=</c>, <c>MatchPattern=</c>.</summary>
internal sealed record TransferResource(string Type, string Path, string MatchPattern)
{
    /// <summary>The proxy serving <paramref name="repository"/> to systemd-pull, one file at a time.</summary>
    public static TransferResource UrlFile(Uri server, string repository, string matchPattern) =>
        new("url-file", $"{server}{repository}", matchPattern);

    /// <summary>The proxy serving <paramref name="repository"/> as tarballs that systemd-pull unpacks.</summary>
    public static TransferResource UrlTar(Uri server, string repository, string matchPattern) =>
        new("url-tar", $"{server}{repository}", matchPattern);

    /// <summary>
    /// The proxy's machine-scoped path (docs/rollouts.md): <c>/_m/%m/</c> before the repository, so sysupdate puts
    /// the machine id of the system it runs on (or of its <c>--root</c>) into every URL.
    /// </summary>
    public static TransferResource MachineScoped(Uri server, string repository, string matchPattern) =>
        new("url-file", $"{server}_m/%m/{repository}", matchPattern);

    public static TransferResource RegularFile(string path, string matchPattern) => new("regular-file", path, matchPattern);

    public static TransferResource Directory(string path, string matchPattern) => new("directory", path, matchPattern);
}
