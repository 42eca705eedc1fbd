using SysextFunctions.Rollouts;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Tests.Unit.Service.Sysupdate;

/// <summary><c>/_m/&lt;key&gt;/…</c>: every route under a machine key, which the parser reduces to its hash and never echoes.</summary>
public class MachinePathTests
{
    private const string Key = "0123456789abcdef0123456789abcdef";
    private static readonly MachineKeys Keys = new("test-secret");

    [Theory]
    [InlineData("/_m/" + Key + "/sysexts/app/SHA256SUMS", SysupdateResource.Checksums, "sysexts/app", "SHA256SUMS")]
    [InlineData("/_m/" + Key + "/sysexts/app/SHA256SUMS.gpg", SysupdateResource.Signature, "sysexts/app", "SHA256SUMS.gpg")]
    [InlineData("/_m/" + Key + "/sysexts/app/app-v1.raw", SysupdateResource.File, "sysexts/app", "app-v1.raw")]
    [InlineData("/_m/" + Key + "/sysexts/app/", SysupdateResource.Catalogue, "sysexts/app", "")]
    [InlineData("/_m/" + Key + "/sysexts/app/app.transfer", SysupdateResource.Transfer, "sysexts/app", "app.transfer")]
    [InlineData("/_m/abcdefghijklmnop/app/SHA256SUMS", SysupdateResource.Checksums, "app", "SHA256SUMS")]
    public void Parse_MachineScoped_SameRoutesWithTheHash(string target, SysupdateResource resource, string repository, string file)
    {
        var path = SysupdatePath.Parse(target, Keys).Path;
        Assert.NotNull(path);
        Assert.Equal(resource, path.Resource);
        Assert.Equal(repository, path.Repository);
        Assert.Equal(file, path.FileName);
        Assert.Equal(Keys.TryHash(target.Split('/')[2]), path.Machine);
        Assert.DoesNotContain(target.Split('/')[2], path.ToString(), StringComparison.Ordinal);

        var plain = SysupdatePath.Parse(target[(target.IndexOf('/', 4))..], Keys).Path!;
        Assert.Equal(plain, path with { Machine = null });
        Assert.Null(plain.Machine);
    }

    [Theory]
    [InlineData("/_m/")]
    [InlineData("/_m//sysexts/app/SHA256SUMS")]
    [InlineData("/_m/" + Key)]
    [InlineData("/_m/" + Key + "/")]
    [InlineData("/_m/" + Key + "//app/SHA256SUMS")]
    [InlineData("/_m/" + Key + "/sysexts//app/SHA256SUMS")]
    [InlineData("/_m/" + Key + "/_m/" + Key + "/app/SHA256SUMS")]
    [InlineData("/_m/" + Key + "/../app/SHA256SUMS")]
    [InlineData("/_m/" + Key + "x!/app/SHA256SUMS")]
    [InlineData("/_m/0123456789abcde/app/SHA256SUMS")]
    [InlineData("/_m/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefA/app/SHA256SUMS")]
    [InlineData("/_m/0123456789.abcdef0123/app/SHA256SUMS")]
    [InlineData("/_m/" + Key + "/Upper/SHA256SUMS")]
    public void Parse_Malformed_InvalidWithoutTheKey(string target)
    {
        var parsed = SysupdatePath.Parse(target, Keys);
        Assert.Null(parsed.Path);
        Assert.Equal(PathFailure.Invalid, parsed.Failure);
        var key = target.Split('/')[2];
        if (key.Length > 0)
        {
            Assert.DoesNotContain(key, parsed.Error!, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("/_m/" + Key + "/app/SHA256SUMS", "/_m/{key}/app/SHA256SUMS")]
    [InlineData("/_m/" + Key, "/_m/{key}")]
    [InlineData("/app/SHA256SUMS", "/app/SHA256SUMS")]
    public void Redact_MachineScoped_KeyBlanked(string path, string redacted) => Assert.Equal(redacted, SysupdatePath.Redact(path));
}
