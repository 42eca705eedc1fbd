using System.Text;
using SysextFunctions.Registry.Content;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Tests.Unit.Service.Sysupdate;

public class ChecksumsTests
{
    private static readonly Digest A = Digest.Parse("sha256:" + new string('a', 64));
    private static readonly Digest B = Digest.Parse("sha256:" + new string('b', 64));

    [Fact]
    public void Render_SortsByNameWithTwoSpacesAndTrailingNewline()
    {
        var body = Checksums.Render([new SysextFile("k-v2.raw", "v2", B, 1), new SysextFile("k-v1.raw", "v1", A, 1)]);

        Assert.Equal($"{new string('a', 64)}  k-v1.raw\n{new string('b', 64)}  k-v2.raw\n", Encoding.ASCII.GetString(body));
    }

    [Fact]
    public void Render_BestBefore_MarkerLineOfTheEmptyFileFirst()
    {
        var body = Checksums.Render([new SysextFile("k-v1.raw", "v1", A, 1)], new DateOnly(2026, 12, 6));

        Assert.Equal(
            $"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 *BEST-BEFORE-2026-12-06\n{new string('a', 64)}  k-v1.raw\n",
            Encoding.ASCII.GetString(body));
        Assert.Equal(Checksums.EmptySha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([])));
    }

    [Fact]
    public void Render_NoFiles_OneLineNamingNoFile()
    {
        // Never empty: systemd-pull 254 and 257 fail on an empty download. A well-formed line (sysupdate refuses the
        // whole list on one it cannot parse) whose name no pattern of ours ("<name>-@v…") can match.
        Assert.Equal($"{Checksums.EmptySha256}  NOTHING-OFFERED\n", Encoding.ASCII.GetString(Checksums.Render([])));
        Assert.Equal(Checksums.NothingLine, Encoding.ASCII.GetString(Checksums.Render([])));
    }

    [Fact]
    public void Render_NonSha256Digest_Throws()
    {
        var sha512 = new Digest("sha512", new string('c', 128));

        Assert.Throws<ArgumentException>(() => Checksums.Render([new SysextFile("k-v1.raw", "v1", sha512, 1)]));
    }

    [Fact]
    public void Render_NameWithSpace_Throws()
    {
        Assert.Throws<ArgumentException>(() => Checksums.Render([new SysextFile("k v1.raw", "v1", A, 1)]));
    }
}
