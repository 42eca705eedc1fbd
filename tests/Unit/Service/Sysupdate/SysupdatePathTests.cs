using SysextFunctions.Sysupdate;

namespace SysextFunctions.Tests.Unit.Service.Sysupdate;

public class SysupdatePathTests
{
    [Theory]
    [InlineData("/kubernetes/SHA256SUMS", SysupdateResource.Checksums, "kubernetes", "SHA256SUMS")]
    [InlineData("/sysexts/tools/kubernetes/SHA256SUMS", SysupdateResource.Checksums, "sysexts/tools/kubernetes", "SHA256SUMS")]
    [InlineData("/kubernetes/kubernetes-v1.27.8-x86-64.raw", SysupdateResource.File, "kubernetes", "kubernetes-v1.27.8-x86-64.raw")]
    [InlineData("/a.b/c__d/e-f/layer-v1.0.tar.gz", SysupdateResource.File, "a.b/c__d/e-f", "layer-v1.0.tar.gz")]
    [InlineData("/kubernetes/SHA256SUMS.gpg", SysupdateResource.Signature, "kubernetes", "SHA256SUMS.gpg")]
    [InlineData("/kubernetes/SHA256SUMS.sha256.asc", SysupdateResource.Signature, "kubernetes", "SHA256SUMS.sha256.asc")]
    [InlineData("/", SysupdateResource.Root, "", "")]
    public void Parse_ValidPath_SplitsRepositoryAndFile(string target, SysupdateResource resource, string repository, string file)
    {
        var result = SysupdatePath.Parse(target);

        Assert.Null(result.Error);
        Assert.Equal(new SysupdatePath(resource, repository, file), result.Path);
    }

    [Theory]
    [InlineData("/kubernetes/../SHA256SUMS", PathFailure.Invalid, "dot segments")]
    [InlineData("/kubernetes/./SHA256SUMS", PathFailure.Invalid, "dot segments")]
    [InlineData("/kubernetes/%2e%2e/SHA256SUMS", PathFailure.Invalid, "percent-encoded")]
    [InlineData("/kubernetes%2FSHA256SUMS", PathFailure.Invalid, "percent-encoded")]
    [InlineData("/kubernetes//SHA256SUMS", PathFailure.Invalid, "empty path segment")]
    [InlineData("//kubernetes/SHA256SUMS", PathFailure.Invalid, "empty path segment")]
    [InlineData("/kubernetes//", PathFailure.Invalid, "empty path segment")]
    [InlineData("/Kubernetes/", PathFailure.Invalid, "invalid repository name")]
    [InlineData("/Kubernetes/SHA256SUMS", PathFailure.Invalid, "invalid repository name")]
    [InlineData("/kube--/SHA256SUMS", PathFailure.Invalid, "invalid repository name")]
    [InlineData("/-kube/SHA256SUMS", PathFailure.Invalid, "invalid repository name")]
    [InlineData("/kube/SHA256SUMS?x=1", PathFailure.Invalid, "query strings")]
    [InlineData("/kube/file name", PathFailure.Invalid, "control, space")]
    [InlineData("/kube/file\u0001", PathFailure.Invalid, "control, space")]
    [InlineData("/kube/f\u00e9", PathFailure.Invalid, "control, space")]
    [InlineData("/kube/a:b", PathFailure.Invalid, "invalid file name")]
    [InlineData("/kubernetes", PathFailure.NotFound, "SHA256SUMS")]
    [InlineData("kubernetes/SHA256SUMS", PathFailure.Invalid, "start with")]
    public void Parse_BadPath_RefusesWithReason(string target, PathFailure failure, string reason)
    {
        var result = SysupdatePath.Parse(target);

        Assert.Null(result.Path);
        Assert.Equal(failure, result.Failure);
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', result.Error!);
    }

    [Fact]
    public void Parse_OverlongPath_Is414()
    {
        var result = SysupdatePath.Parse("/" + new string('a', SysupdatePath.MaxPathLength) + "/SHA256SUMS");

        Assert.Equal(PathFailure.TooLong, result.Failure);
    }

    [Fact]
    public void Parse_OverlongRepository_Is400()
    {
        var result = SysupdatePath.Parse("/" + string.Join('/', Enumerable.Repeat(new string('a', 60), 5)) + "/SHA256SUMS");

        Assert.Equal(PathFailure.Invalid, result.Failure);
        Assert.Contains("repository", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OverlongFileName_Is400()
    {
        var result = SysupdatePath.Parse("/kube/" + new string('a', 256));

        Assert.Equal(PathFailure.Invalid, result.Failure);
    }

    [Fact]
    public void Name_NestedRepository_IsLastSegment()
    {
        var path = SysupdatePath.Parse("/sysexts/tools/kubernetes/SHA256SUMS").Path!;

        Assert.Equal("kubernetes", path.Name);
    }
}
