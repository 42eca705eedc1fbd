using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Tests.Unit.Service.Catalogue;

public class CataloguePathTests
{
    [Theory]
    [InlineData("/hello/", SysupdateResource.Catalogue, "hello", "")]
    [InlineData("/sysexts/tools/hello/", SysupdateResource.Catalogue, "sysexts/tools/hello", "")]
    [InlineData("/sysexts/hello/hello.transfer", SysupdateResource.Transfer, "sysexts/hello", "hello.transfer")]
    [InlineData("/sysexts/hello/other.transfer", SysupdateResource.File, "sysexts/hello", "other.transfer")]
    [InlineData("/sysexts/hello/hello.transfer.raw", SysupdateResource.File, "sysexts/hello", "hello.transfer.raw")]
    public void Parse_CatalogueAndTransfer_Recognized(string target, SysupdateResource resource, string repository, string file)
    {
        var result = SysupdatePath.Parse(target);

        Assert.Null(result.Error);
        Assert.Equal(new SysupdatePath(resource, repository, file), result.Path);
    }

    [Theory]
    [InlineData("/hello/?", PathFailure.Invalid, "query strings")]
    [InlineData("/hello/?format=json", PathFailure.Invalid, "query strings")]
    [InlineData("/Hello/", PathFailure.Invalid, "invalid repository name")]
    [InlineData("/a/../", PathFailure.Invalid, "dot segments")]
    [InlineData("/a/%2e/", PathFailure.Invalid, "percent-encoded")]
    public void Parse_BadCataloguePath_Refused(string target, PathFailure failure, string reason)
    {
        var result = SysupdatePath.Parse(target);

        Assert.Equal(failure, result.Failure);
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v1.27.8-x86-64", null, "x86-64", "v1.27.8")]
    [InlineData("v1", "arm64", "arm64", "v1")]
    [InlineData("v1", null, null, "v1")]
    [InlineData("x86-64", null, null, "x86-64")]
    public void Describe_ArchitectureAndVersion_FromPlatformOrTag(string tag, string? platform, string? architecture, string version)
    {
        var file = ManifestFacts.Describe(new SysextFile("f", tag, Digest.Sha256(new byte[32]), 1), new Manifest { SchemaVersion = 2 }, platform);

        Assert.Equal(architecture, file.Architecture);
        Assert.Equal(version, file.Version);
    }

    [Fact]
    public void Describe_Annotations_ManifestFirstThenIndexConfigOnlyWithoutDate()
    {
        var config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = "sha256:" + new string('a', 64), Size = 300 };
        var manifest = new Manifest { SchemaVersion = 2, Config = config };
        var index = new Manifest
        {
            SchemaVersion = 2,
            Annotations = new() { [ManifestFacts.CreatedAnnotation] = "2026-01-02T03:04:05Z", [ManifestFacts.DescriptionAnnotation] = "from the index" },
        };
        var file = new SysextFile("f", "v1", Digest.Sha256(new byte[32]), 1);

        var alone = ManifestFacts.Describe(file, manifest);
        var inIndex = ManifestFacts.Describe(file, manifest, "x86-64", index);
        var own = ManifestFacts.Describe(file, manifest with { Annotations = new() { [ManifestFacts.CreatedAnnotation] = "2025-05-05T00:00:00+02:00" } }, "x86-64", index);
        var junk = ManifestFacts.Describe(file, manifest with { Annotations = new() { [ManifestFacts.CreatedAnnotation] = "yesterday<script>" } });

        Assert.Null(alone.Created);
        Assert.Equal(Digest.Parse(config.Digest), alone.Config);
        Assert.Equal(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), inIndex.Created);
        Assert.Equal("from the index", inIndex.Description);
        Assert.Null(inIndex.Config);
        Assert.Equal(new DateTimeOffset(2025, 5, 4, 22, 0, 0, TimeSpan.Zero), own.Created);
        Assert.Null(junk.Created);
        Assert.NotNull(junk.Config);
    }

    [Fact]
    public void Describe_LargeOrEmptyConfig_NotRead()
    {
        var file = new SysextFile("f", "v1", Digest.Sha256(new byte[32]), 1);
        var digest = "sha256:" + new string('b', 64);

        var large = ManifestFacts.Describe(file, new Manifest { SchemaVersion = 2, Config = new Descriptor { MediaType = MediaTypes.DockerConfig, Digest = digest, Size = ManifestFacts.MaxConfigBytes + 1 } });
        var empty = ManifestFacts.Describe(file, new Manifest { SchemaVersion = 2, Config = new Descriptor { MediaType = MediaTypes.OciEmpty, Digest = digest, Size = 2 } });

        Assert.Null(large.Config);
        Assert.Null(empty.Config);
    }
}
