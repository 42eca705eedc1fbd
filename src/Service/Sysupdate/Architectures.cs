using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// OCI platform architectures (Go's GOARCH values, https://github.com/opencontainers/image-spec/blob/main/image-index.md)
/// as systemd's architecture identifiers, the values of <c>%a</c> in sysupdate's <c>MatchPattern=</c>
/// (https://www.freedesktop.org/software/systemd/man/latest/systemd.syntax.html, <c>ConditionArchitecture=</c>).
/// </summary>
public static class Architectures
{
    private static readonly Dictionary<string, string> OciToSystemd = new(StringComparer.Ordinal)
    {
        ["amd64"] = "x86-64",
        ["386"] = "x86",
        ["arm64"] = "arm64",
        ["arm64be"] = "arm64-be",
        // systemd has one identifier for little-endian 32-bit ARM whatever the variant (v5, v6, v7).
        ["arm"] = "arm",
        ["armbe"] = "arm-be",
        ["ppc64le"] = "ppc64-le",
        ["ppc64"] = "ppc64",
        ["ppc"] = "ppc",
        ["s390x"] = "s390x",
        ["s390"] = "s390",
        ["riscv64"] = "riscv64",
        ["loong64"] = "loongarch64",
        ["mips"] = "mips",
        ["mipsle"] = "mips-le",
        ["mips64"] = "mips64",
        ["mips64le"] = "mips64-le",
        ["sparc64"] = "sparc64",
        ["alpha"] = "alpha",
        ["ia64"] = "ia64",
        ["m68k"] = "m68k",
    };

    /// <summary>Every identifier we produce; a file name ending in <c>-&lt;one of these&gt;</c> may come from an index.</summary>
    public static readonly IReadOnlyList<string> SystemdIdentifiers = [.. OciToSystemd.Values.Distinct().OrderByDescending(a => a.Length)];

    /// <summary>The systemd identifier of a platform, or null when the platform is no Linux one we can name.</summary>
    public static string? Systemd(Platform? platform) =>
        platform is { Os: "linux", Architecture: { } architecture } && OciToSystemd.TryGetValue(architecture, out var systemd) ? systemd : null;
}
