using SysextFunctions.Registry.Oci;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Tests.Unit.Service.Sysupdate;

public class ArchitecturesTests
{
    [Theory]
    [InlineData("linux", "amd64", null, "x86-64")]
    [InlineData("linux", "arm64", "v8", "arm64")]
    [InlineData("linux", "386", null, "x86")]
    [InlineData("linux", "arm", "v7", "arm")]
    [InlineData("linux", "arm", "v6", "arm")]
    [InlineData("linux", "ppc64le", null, "ppc64-le")]
    [InlineData("linux", "ppc64", null, "ppc64")]
    [InlineData("linux", "s390x", null, "s390x")]
    [InlineData("linux", "riscv64", null, "riscv64")]
    [InlineData("linux", "loong64", null, "loongarch64")]
    [InlineData("linux", "mips64le", null, "mips64-le")]
    [InlineData("linux", "wasm", null, null)]
    [InlineData("windows", "amd64", null, null)]
    [InlineData("unknown", "unknown", null, null)]
    [InlineData(null, "amd64", null, null)]
    public void Systemd_MapsLinuxPlatformsOnly(string? os, string? architecture, string? variant, string? expected)
    {
        Assert.Equal(expected, Architectures.Systemd(new Platform { Os = os, Architecture = architecture, Variant = variant }));
    }

    [Fact]
    public void Systemd_NoPlatform_IsNull()
    {
        Assert.Null(Architectures.Systemd(null));
    }
}
