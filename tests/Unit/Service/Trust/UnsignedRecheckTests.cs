using System.Security.Cryptography;
using SysextFunctions.Sysupdate;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Unit.Service.Trust;

/// <summary>
/// <c>Trust:UnsignedRecheck</c>: with cosign keys, a manifest digest found unsigned is remembered for a while, so a
/// warm re-listing of unsigned tags costs no referrer look-ups, and the registry is asked again once it has passed.
/// Counted against an in-memory registry with the referrers API, on a fake clock.
/// </summary>
public sealed class UnsignedRecheckTests : IDisposable
{
    private const int Tags = 160;
    private readonly FakeRegistry _registry = new() { ReferrersApi = true };
    private readonly FakeClock _time = new();
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose() => _key.Dispose();

    private InMemoryProxy Proxy(string? recheck = null)
    {
        for (var i = 0; i < Tags; i++)
        {
            _registry.Push("unsigned/app", $"v1.{i}");
        }

        var settings = new Dictionary<string, string?> { ["Trust:CosignKeys:0"] = _key.ExportSubjectPublicKeyInfoPem() };
        if (recheck is not null)
        {
            settings["Trust:UnsignedRecheck"] = recheck;
        }

        return new InMemoryProxy(_registry, _time, settings);
    }

    [Fact]
    public async Task Checksums_WarmListing160Unsigned_NoReferrerLookups()
    {
        await using var proxy = Proxy();
        var cold = await proxy.GetAsync("/unsigned/app/SHA256SUMS");
        Assert.Equal(200, cold.StatusCode);
        Assert.Equal(Tags, _registry["GET referrers"]);
        _registry.ResetCounts();

        var warm = await proxy.GetAsync("/unsigned/app/SHA256SUMS");

        Assert.Equal(200, warm.StatusCode);
        Assert.Equal(Checksums.NothingLine, warm.BodyText());
        Assert.Equal(0, _registry["GET referrers"]);
    }

    [Fact]
    public async Task Checksums_AfterUnsignedRecheck_AsksAgain()
    {
        await using var proxy = Proxy("00:05:00");
        await proxy.GetAsync("/unsigned/app/SHA256SUMS");
        _time.Advance(TimeSpan.FromMinutes(4));
        await proxy.GetAsync("/unsigned/app/SHA256SUMS");
        Assert.Equal(Tags, _registry["GET referrers"]);

        _time.Advance(TimeSpan.FromMinutes(1));
        await proxy.GetAsync("/unsigned/app/SHA256SUMS");

        // A signature pushed in the meantime would be found now.
        Assert.Equal(2 * Tags, _registry["GET referrers"]);
    }

    [Fact]
    public async Task Checksums_UnsignedRecheckZero_AsksOnEveryListing()
    {
        await using var proxy = Proxy("00:00:00");

        await proxy.GetAsync("/unsigned/app/SHA256SUMS");
        await proxy.GetAsync("/unsigned/app/SHA256SUMS");

        Assert.Equal(2 * Tags, _registry["GET referrers"]);
    }
}
