using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Tests.Unit.Service.Sysupdate;

public class CachingOciSourceTests
{
    private static ManifestResponse Manifest(int n)
    {
        var bytes = Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.OciManifest}}}","layers":[],"annotations":{"n":"{{{n}}}"}}""");
        return new ManifestResponse(Digest.Sha256(System.Security.Cryptography.SHA256.HashData(bytes)), SysextFunctions.Registry.Oci.Manifest.Parse(bytes, null), bytes.Length);
    }

    private static CachingOciSource Wrap(IOciSource inner, long bytes = 1 << 20, TimeSpan tagRecheck = default, TimeProvider? time = null) =>
        new(inner, new ManifestCache(Options.Create(new CacheOptions { ManifestCacheBytes = bytes, TagRecheck = tagRecheck }), time ?? new FakeTimeProvider()), "test");

    [Fact]
    public async Task GetManifestAsync_TagRecheckNotDue_NoRequest()
    {
        var inner = Substitute.For<IOciSource>();
        var v1 = Manifest(1);
        inner.GetManifestAsync("r", "t", Arg.Any<CancellationToken>()).Returns(v1);
        var time = new FakeTimeProvider();
        var source = Wrap(inner, tagRecheck: TimeSpan.FromMinutes(10), time: time);

        await source.GetManifestAsync("r", "t");
        time.Advance(TimeSpan.FromMinutes(9));
        var again = await source.GetManifestAsync("r", "t");

        Assert.Same(v1, again);
        await inner.Received(1).GetManifestAsync("r", Arg.Any<string>(), Arg.Any<CancellationToken>());
        await inner.DidNotReceive().ResolveAsync(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task GetManifestAsync_TagRecheckDue_HeadFindsMovedTagAndRestartsTheClock()
    {
        var inner = Substitute.For<IOciSource>();
        var (v1, v2) = (Manifest(1), Manifest(2));
        inner.GetManifestAsync("r", "t", Arg.Any<CancellationToken>()).Returns(v1);
        inner.ResolveAsync("r", "t", Arg.Any<CancellationToken>()).Returns(v2.Digest);
        inner.GetManifestAsync("r", v2.Digest.ToString(), Arg.Any<CancellationToken>()).Returns(v2);
        var time = new FakeTimeProvider();
        var source = Wrap(inner, tagRecheck: TimeSpan.FromMinutes(10), time: time);

        await source.GetManifestAsync("r", "t");
        time.Advance(TimeSpan.FromMinutes(10));
        var moved = await source.GetManifestAsync("r", "t");
        time.Advance(TimeSpan.FromMinutes(5));
        var trusted = await source.GetManifestAsync("r", "t");

        Assert.Same(v2, moved);
        Assert.Same(v2, trusted);
        await inner.Received(1).ResolveAsync("r", "t", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task GetManifestAsync_TagRecheckButNothingKept_AsksTheRegistry()
    {
        var inner = Substitute.For<IOciSource>();
        var v1 = Manifest(1);
        inner.GetManifestAsync("r", "t", Arg.Any<CancellationToken>()).Returns(v1);
        // A cache too small to keep the manifest: a recent tag is no excuse to skip the registry.
        var source = Wrap(inner, bytes: 16, tagRecheck: TimeSpan.FromHours(1), time: new FakeTimeProvider());

        await source.GetManifestAsync("r", "t");
        var again = await source.GetManifestAsync("r", "t");

        Assert.Same(v1, again);
        await inner.Received(2).GetManifestAsync("r", "t", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task GetManifestAsync_TagSeenAndUnchanged_HeadOnly()
    {
        var inner = Substitute.For<IOciSource>();
        var v1 = Manifest(1);
        inner.GetManifestAsync("r", "t", Arg.Any<CancellationToken>()).Returns(v1);
        inner.ResolveAsync("r", "t", Arg.Any<CancellationToken>()).Returns(v1.Digest);
        var source = Wrap(inner);

        await source.GetManifestAsync("r", "t");
        var again = await source.GetManifestAsync("r", "t");

        Assert.Same(v1, again);
        await inner.Received(1).GetManifestAsync("r", Arg.Any<string>(), Arg.Any<CancellationToken>());
        await inner.Received(1).ResolveAsync("r", "t", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task GetManifestAsync_TagMoved_FetchedByNewDigest()
    {
        var inner = Substitute.For<IOciSource>();
        var (v1, v2) = (Manifest(1), Manifest(2));
        inner.GetManifestAsync("r", "t", Arg.Any<CancellationToken>()).Returns(v1);
        inner.ResolveAsync("r", "t", Arg.Any<CancellationToken>()).Returns(v2.Digest);
        inner.GetManifestAsync("r", v2.Digest.ToString(), Arg.Any<CancellationToken>()).Returns(v2);
        var source = Wrap(inner);

        await source.GetManifestAsync("r", "t");
        var moved = await source.GetManifestAsync("r", "t");

        Assert.Same(v2, moved);
    }

    [Fact]
    public async Task GetManifestAsync_NoDigestFromHead_FallsBackToGet()
    {
        var inner = Substitute.For<IOciSource>();
        var v1 = Manifest(1);
        inner.GetManifestAsync("r", "t", Arg.Any<CancellationToken>()).Returns(v1);
        inner.ResolveAsync("r", "t", Arg.Any<CancellationToken>()).Returns((Digest?)null);
        var source = Wrap(inner);

        await source.GetManifestAsync("r", "t");
        await source.GetManifestAsync("r", "t");

        await inner.Received(2).GetManifestAsync("r", "t", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task GetManifestAsync_OtherRepositorySameDigest_NotServedFromCache()
    {
        var inner = Substitute.For<IOciSource>();
        var v1 = Manifest(1);
        inner.GetManifestAsync(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(v1);
        var source = Wrap(inner);

        await source.GetManifestAsync("a", v1.Digest.ToString());
        await source.GetManifestAsync("b", v1.Digest.ToString());
        await source.GetManifestAsync("a", v1.Digest.ToString());

        await inner.Received(1).GetManifestAsync("a", v1.Digest.ToString(), Arg.Any<CancellationToken>());
        await inner.Received(1).GetManifestAsync("b", v1.Digest.ToString(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task GetManifestAsync_CacheTooSmall_FetchesAgain()
    {
        var inner = Substitute.For<IOciSource>();
        var v1 = Manifest(1);
        inner.GetManifestAsync("r", v1.Digest.ToString(), Arg.Any<CancellationToken>()).Returns(v1);
        var source = Wrap(inner, bytes: 16);

        await source.GetManifestAsync("r", v1.Digest.ToString());
        await source.GetManifestAsync("r", v1.Digest.ToString());

        await inner.Received(2).GetManifestAsync("r", v1.Digest.ToString(), Arg.Any<CancellationToken>());
    }
}
