using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Tests.Unit.Registry.Content;

public class DigestTests
{
    [Theory]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true)]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", false)]
    [InlineData("sha256:e3b0", false)]
    [InlineData("sha512:" + "ab", true)]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void TryParse_AcceptsOnlyWellFormedDigests(string? value, bool valid)
    {
        Assert.Equal(valid, Digest.TryParse(value, out _));
    }

    [Theory]
    [InlineData("kubernetes", true)]
    [InlineData("sysexts/tools/kubernetes", true)]
    [InlineData("a__b/c.d/e---f", true)]
    [InlineData("Kubernetes", false)]
    [InlineData("a___b", false)]
    [InlineData("a/", false)]
    [InlineData("a..b", false)]
    public void IsValidRepository_FollowsDistributionGrammar(string name, bool valid)
    {
        Assert.Equal(valid, Reference.IsValidRepository(name));
    }

    [Theory]
    [InlineData("v1.27.8-x86-64", true)]
    [InlineData("_x", true)]
    [InlineData(".x", false)]
    [InlineData("-x", false)]
    [InlineData("a:b", false)]
    public void IsValidTag_FollowsDistributionGrammar(string tag, bool valid)
    {
        Assert.Equal(valid, Reference.IsValidTag(tag));
    }
}
