using SysextFunctions.Registry.Oci;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Tests.Unit.Service.Sysupdate;

public class FileNamingTests
{
    [Theory]
    [InlineData("kubernetes-v1.27.6-x86-64.raw", MediaTypes.OciLayerTar, ".raw")]
    [InlineData("kubernetes.raw.xz", MediaTypes.OciLayerTar, ".raw.xz")]
    [InlineData("kubernetes.raw.zst", "application/octet-stream", ".raw.zst")]
    [InlineData("tree.tar.zst", MediaTypes.OciLayerTar, ".tar.zst")]
    [InlineData("IMAGE.RAW", MediaTypes.OciLayerTar, ".raw")]
    [InlineData("notes.txt", MediaTypes.OciLayerTarGzip, ".tar.gz")]
    [InlineData(null, MediaTypes.DockerLayerTarGzip, ".tar.gz")]
    [InlineData(null, MediaTypes.OciLayerTarGzip, ".tar.gz")]
    [InlineData(null, MediaTypes.OciLayerTarZstd, ".tar.zst")]
    [InlineData(null, MediaTypes.OciLayerTar, ".raw")]
    [InlineData("tree.tar", MediaTypes.OciLayerTar, ".tar")]
    [InlineData(null, "application/vnd.docker.image.rootfs.diff.tar", ".tar")]
    [InlineData(null, "application/vnd.oci.image.layer.v1.tar+xz", ".tar.xz")]
    [InlineData("kubernetes-v1-x86-64.img.xz", "application/octet-stream", ".img.xz")]
    [InlineData(null, "application/vnd.acme.sysext", ".raw")]
    [InlineData(null, null, ".raw")]
    public void Suffix_FromTitleThenMediaType(string? title, string? mediaType, string expected)
    {
        var layer = new Descriptor
        {
            MediaType = mediaType,
            Annotations = title is null ? null : new() { [Descriptor.TitleAnnotation] = title },
        };

        Assert.Equal(expected, FileNaming.Suffix(layer));
    }

    [Theory]
    [InlineData("kubernetes", "kubernetes-v1.27.8-x86-64.raw", "v1.27.8-x86-64")]
    [InlineData("layer", "layer-v1.0.tar.gz", "v1.0")]
    [InlineData("layer", "layer-v1.0.tar", "v1.0")]
    [InlineData("layer", "layer-latest.raw.zst", "latest")]
    [InlineData("layer", "other-v1.0.tar.gz", null)]
    [InlineData("layer", "layer-v1.0.zip", null)]
    [InlineData("layer", "layer-.raw", null)]
    [InlineData("layer", "layer-.v1.raw", null)]
    public void CandidateTag_ParsesOurNamesOnly(string name, string fileName, string? tag)
    {
        Assert.Equal(tag, FileNaming.CandidateTag(name, fileName));
    }

    [Theory]
    [InlineData("kubernetes", "kubernetes-v1.27.8-x86-64.raw", new[] { "v1.27.8-x86-64", "v1.27.8" })]
    [InlineData("tool", "tool-v1-arm64.raw.xz", new[] { "v1-arm64", "v1" })]
    [InlineData("tool", "tool-v1-ppc64-le.tar.zst", new[] { "v1-ppc64-le", "v1" })]
    [InlineData("tool", "tool-v1.raw", new[] { "v1" })]
    [InlineData("tool", "tool-x86-64.raw", new[] { "x86-64" })]
    [InlineData("tool", "other-v1-x86-64.raw", new string[0])]
    public void CandidateTags_WholeTagThenTagWithoutArchitecture(string name, string fileName, string[] expected)
    {
        Assert.Equal(expected, FileNaming.CandidateTags(name, fileName));
    }

    [Fact]
    public void FileName_WithArchitecture_IsNameDashTagDashArchSuffix()
    {
        Assert.Equal("tool-v1-x86-64.raw.xz", FileNaming.FileName("tool", "v1", "x86-64", ".raw.xz"));
    }

    [Fact]
    public void FileName_IsNameDashTagSuffix()
    {
        Assert.Equal("kubernetes-v1.27.8.raw", FileNaming.FileName("kubernetes", "v1.27.8", ".raw"));
    }
}
