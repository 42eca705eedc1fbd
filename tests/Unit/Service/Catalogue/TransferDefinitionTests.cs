using SysextFunctions.Catalogue;
using SysextFunctions.Registry.Content;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Tests.Unit.Service.Catalogue;

public class TransferDefinitionTests
{
    private static readonly Uri Source = new("http://127.0.0.1:5001/sysexts/hello/");

    private static SysextFile File(string name, string tag, string? architecture = null) =>
        new(name, tag, Digest.Sha256(new byte[32]), 1, architecture);

    [Fact]
    public void Derive_IndexFiles_PatternWithArchitecture()
    {
        var pattern = TransferDefinition.Derive("tool", [File("tool-v1-x86-64.raw", "v1", "x86-64"), File("tool-v1-arm64.raw", "v1", "arm64")]);

        Assert.Equal("tool-@v-%a.raw", pattern.Source);
        Assert.Equal("tool-@v-%a.raw", pattern.Target);
        Assert.False(pattern.IsTar);
        Assert.Equal(0, pattern.Unmatched);
    }

    [Fact]
    public void Derive_SeedStyleTags_PatternWithArchitecture()
    {
        var pattern = TransferDefinition.Derive("kubernetes", [File("kubernetes-v1.27.8-x86-64.raw", "v1.27.8-x86-64", "x86-64")]);

        Assert.Equal("kubernetes-@v-%a.raw", pattern.Source);
    }

    [Fact]
    public void Derive_PlainTags_PatternWithoutArchitecture()
    {
        var pattern = TransferDefinition.Derive("hello", [File("hello-v1.raw", "v1"), File("hello-v2.raw", "v2")]);

        Assert.Equal("hello-@v.raw", pattern.Source);
    }

    [Fact]
    public void Derive_CompressedImage_SourceKeepsSuffixTargetIsRaw()
    {
        var pattern = TransferDefinition.Derive("hello", [File("hello-v1.raw.xz", "v1")]);

        Assert.Equal("hello-@v.raw.xz", pattern.Source);
        Assert.Equal("hello-@v.raw", pattern.Target);
    }

    [Fact]
    public void Derive_Tarballs_UrlTarIntoDirectory()
    {
        var pattern = TransferDefinition.Derive("layer", [File("layer-v1.0.tar.gz", "v1.0")]);

        Assert.True(pattern.IsTar);
        Assert.Equal("layer-@v.tar.gz", pattern.Source);
        Assert.Equal("layer-@v", pattern.Target);
    }

    [Fact]
    public void Derive_MixedSuffixes_MostCommonWinsOthersCounted()
    {
        var pattern = TransferDefinition.Derive("hello", [File("hello-v1.raw", "v1"), File("hello-v2.raw", "v2"), File("hello-v3.raw.xz", "v3")]);

        Assert.Equal("hello-@v.raw", pattern.Source);
        Assert.Equal(1, pattern.Unmatched);
    }

    [Fact]
    public void Derive_Tie_NewestVersionsLayoutWins()
    {
        var pattern = TransferDefinition.Derive("hello", [File("hello-v1.raw", "v1"), File("hello-v10.raw.zst", "v10")]);

        Assert.Equal("hello-@v.raw.zst", pattern.Source);
    }

    [Fact]
    public void Render_Unsigned_VerifyNoWithReasonAndDemoTarget()
    {
        var text = TransferDefinition.Render("sysexts/hello", "hello", [File("hello-v1-x86-64.raw", "v1", "x86-64")], Source, listSigned: false);

        var lines = text.Split('\n');
        Assert.Contains("Verify=no", lines);
        Assert.Contains(lines, l => l.StartsWith("# Verify=no: ", StringComparison.Ordinal));
        Assert.DoesNotContain("Verify=yes", lines);
        var expected = """
            [Source]
            Type=url-file
            Path=http://127.0.0.1:5001/sysexts/hello
            MatchPattern=hello-@v-%a.raw

            [Target]
            InstancesMax=3
            Type=regular-file
            Path=/opt/extensions/hello
            MatchPattern=hello-@v-%a.raw
            CurrentSymlink=/etc/extensions/hello.raw

            """;
        Assert.EndsWith(expected.ReplaceLineEndings("\n"), text, StringComparison.Ordinal);
        Assert.Contains("/etc/sysupdate.d/50-hello.transfer", text, StringComparison.Ordinal);
        Assert.Contains("/etc/sysupdate.d/50-hello.conf", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Signed_VerifyYes()
    {
        var text = TransferDefinition.Render("sysexts/hello", "hello", [File("hello-v1.raw", "v1")], Source, listSigned: true);

        Assert.Contains("\nVerify=yes\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Verify=no", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Tarballs_DirectoryTargetAndLinkWithoutSuffix()
    {
        var text = TransferDefinition.Render("layer", "layer", [File("layer-v1.0.tar.gz", "v1.0")], new Uri("https://sysext.example/layer/"), listSigned: false);

        Assert.Contains("\nType=url-tar\nPath=https://sysext.example/layer\nMatchPattern=layer-@v.tar.gz\n", text, StringComparison.Ordinal);
        Assert.Contains("\nType=directory\nPath=/opt/extensions/layer\nMatchPattern=layer-@v\nCurrentSymlink=/etc/extensions/layer\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NoFiles_AssumesRawAndSaysSo()
    {
        var text = TransferDefinition.Render("empty", "empty", [], new Uri("http://h/empty/"), listSigned: false);

        Assert.Contains("MatchPattern=empty-@v.raw\n", text, StringComparison.Ordinal);
        Assert.Contains("no usable tag yet", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v1.10", "v1.9")]
    [InlineData("v2", "v1.27.8")]
    [InlineData("1.0.1", "1.0")]
    [InlineData("v010", "v9")]
    public void VersionOrder_Newer_SortsAfter(string newer, string older)
    {
        Assert.True(VersionOrder.Instance.Compare(newer, older) > 0);
        Assert.True(VersionOrder.Instance.Compare(older, newer) < 0);
    }
}
