using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using SysextFunctions.Catalogue;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Sysupdate;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Tests.Unit.Service.Catalogue;

/// <summary>Creation dates from image configs, over a substituted source that serves each config's bytes.</summary>
public sealed class ImageConfigDatesTests : IDisposable
{
    private static readonly byte[] Config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","created":"2026-11-02T03:04:05Z"}""");
    private static readonly Digest ConfigDigest = Digest.Sha256(SHA256.HashData(Config));

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ServiceProvider _services;
    private readonly ImageConfigDates _dates;
    private readonly IOciSource _source = Substitute.For<IOciSource>();
    private byte[] _served = Config;

    public ImageConfigDatesTests()
    {
        var services = new ServiceCollection().AddSingleton<TimeProvider>(_time).AddLogging();
        services.AddHybridCache();
        _services = services.BuildServiceProvider();
        _dates = new ImageConfigDates(_services.GetRequiredService<HybridCache>(), _time, NullLogger<ImageConfigDates>.Instance);
        _source.GetBlobAsync("app", ConfigDigest, true, Arg.Any<CancellationToken>())
            .Returns(_ => BlobResponse.FromStream(new MemoryStream(_served), _served.Length));
    }

    public void Dispose()
    {
        _dates.Dispose();
        _services.Dispose();
    }

    private static SysextFile File => new("app.raw", "v1", Digest.Parse("sha256:" + new string('a', 64)), 1, Config: ConfigDigest);

    [Fact]
    public async Task FillAsync_ConfigIsItsDigestsBytes_Dated()
    {
        var unread = new HashSet<Digest>();

        var files = await _dates.FillAsync(new Upstream(_source, "app", ""), [File], 32, unread, TestContext.Current.CancellationToken);

        Assert.Equal(new DateTimeOffset(2026, 11, 2, 3, 4, 5, TimeSpan.Zero), Assert.Single(files).Created);
        Assert.Empty(unread);
    }

    /// <summary>
    /// A config that is not the bytes its digest names is the registry failing, not a config without a date: it is
    /// reported unread (a rollout holds the version back instead of offering it to all), and read again once
    /// <see cref="ImageConfigDates.FailureTtl"/> has passed.
    /// </summary>
    [Fact]
    public async Task FillAsync_ConfigNotItsDigestsBytes_UnreadAndTriedAgainAfterTtl()
    {
        _served = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","created":"2020-01-01T00:00:00Z"}""");
        var upstream = new Upstream(_source, "app", "");
        var unread = new HashSet<Digest>();

        var forged = await _dates.FillAsync(upstream, [File], 32, unread, TestContext.Current.CancellationToken);

        Assert.Null(Assert.Single(forged).Created);
        Assert.Equal([ConfigDigest], unread);

        _served = Config;
        _time.Advance(ImageConfigDates.FailureTtl + TimeSpan.FromSeconds(1));
        unread.Clear();
        var repaired = await _dates.FillAsync(upstream, [File], 32, unread, TestContext.Current.CancellationToken);

        Assert.NotNull(Assert.Single(repaired).Created);
        Assert.Empty(unread);
    }
}
