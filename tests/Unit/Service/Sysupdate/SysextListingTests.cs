using System.Text;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Sysupdate;
using SysextFunctions.Trust;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Tests.Unit.Service.Sysupdate;

public class SysextListingTests
{
    private static ManifestResponse Manifest(char fill)
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","layers":[{"mediaType":"{{MediaTypes.OciLayerTar}}","digest":"sha256:{{new string(fill, 64)}}","size":1}]}""";
        var bytes = Encoding.UTF8.GetBytes(json);
        return new ManifestResponse(Digest.Sha256(System.Security.Cryptography.SHA256.HashData(bytes)), SysextFunctions.Registry.Oci.Manifest.Parse(bytes, null), bytes.Length);
    }

    private static (SysextListing Catalogue, FakeTimeProvider Time) Create(TimeSpan ttl, ILogger<SysextListing>? logger = null)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var services = new ServiceCollection().AddSingleton<TimeProvider>(time);
        // HybridCache's local store is the IMemoryCache, which tells time by its own clock.
        services.AddMemoryCache(o => o.Clock = new Clock(time));
        services.AddHybridCache();
        var provider = services.BuildServiceProvider();
        var catalogue = new SysextListing(
            provider.GetRequiredService<HybridCache>(),
            Options.Create(new CacheOptions { ChecksumsTtl = ttl }),
            ChecksumsSigner.None,
            new SignatureVerifier(Options.Create(new TrustOptions()), time, NullLogger<SignatureVerifier>.Instance),
            time,
            logger ?? NullLogger<SysextListing>.Instance);
        return (catalogue, time);
    }

    private static IOciSource Source(params string[] tags)
    {
        var source = Substitute.For<IOciSource>();
        source.ListTagsAsync("repo", Arg.Any<CancellationToken>()).Returns(tags);
        source.GetManifestAsync("repo", Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(Manifest('a'));
        return source;
    }

    [Fact]
    public async Task SnapshotAsync_WithinTtl_SameInstanceOneListing()
    {
        var (catalogue, _) = Create(TimeSpan.FromMinutes(1));
        var source = Source("v1");
        var upstream = new Upstream(source, "repo", "");

        var first = await catalogue.SnapshotAsync(upstream, "repo");
        var second = await catalogue.SnapshotAsync(upstream, "repo");

        // The cached object itself, not a copy: a warm request costs no serialization.
        Assert.Same(first, second);
        await source.Received(1).ListTagsAsync("repo", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task SnapshotAsync_AfterTtl_ListsAgain()
    {
        var (catalogue, time) = Create(TimeSpan.FromSeconds(30));
        var source = Source("v1");
        var upstream = new Upstream(source, "repo", "");
        await catalogue.SnapshotAsync(upstream, "repo");
        time.Advance(TimeSpan.FromSeconds(29));
        await catalogue.SnapshotAsync(upstream, "repo");
        source.ListTagsAsync("repo", Arg.Any<CancellationToken>()).Returns(["v1", "v2"]);

        time.Advance(TimeSpan.FromSeconds(2));
        var snapshot = await catalogue.SnapshotAsync(upstream, "repo");

        Assert.Equal(2, snapshot.Files.Count);
        await source.Received(2).ListTagsAsync("repo", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task SnapshotAsync_TwoSourcesSameRepository_KeptApart()
    {
        var (catalogue, _) = Create(TimeSpan.FromMinutes(1));

        var one = await catalogue.SnapshotAsync(new Upstream(Source("v1"), "repo", "one"), "repo");
        var two = await catalogue.SnapshotAsync(new Upstream(Source("v1", "v2"), "repo", "two"), "repo");

        Assert.Single(one.Files);
        Assert.Equal(2, two.Files.Count);
    }

    [Fact]
    public async Task SnapshotAsync_SameUpstreamOtherName_OtherFileNames()
    {
        var (catalogue, _) = Create(TimeSpan.FromMinutes(1));
        var upstream = new Upstream(Source("v1"), "repo", "");

        var one = await catalogue.SnapshotAsync(upstream, "one");
        var two = await catalogue.SnapshotAsync(upstream, "two");

        Assert.Equal("one-v1.raw", Assert.Single(one.Files).Name);
        Assert.Equal("two-v1.raw", Assert.Single(two.Files).Name);
    }

    [Fact]
    public async Task SnapshotAsync_FailedListing_NotCached()
    {
        var (catalogue, _) = Create(TimeSpan.FromMinutes(1));
        var source = Source("v1");
        source.ListTagsAsync("repo", Arg.Any<CancellationToken>())
            .Returns(_ => throw new RegistryException(RegistryFailure.Unavailable, "down"), _ => ["v1"]);
        var upstream = new Upstream(source, "repo", "");

        await Assert.ThrowsAsync<RegistryException>(() => catalogue.SnapshotAsync(upstream, "repo"));
        var snapshot = await catalogue.SnapshotAsync(upstream, "repo");

        Assert.Single(snapshot.Files);
    }

    [Fact]
    public async Task ListAsync_ReferrerAndCosignTags_LeftOutWithoutLogOrManifestRequest()
    {
        var hex = new string('0', 63) + "f";
        var logger = new FakeLogger<SysextListing>();
        var (catalogue, _) = Create(TimeSpan.Zero, logger);
        var source = Source("v1", $"sha256-{hex}", $"sha256-{hex}.sig", $"sha256-{hex}.att", $"sha256-{hex}.sbom");
        var upstream = new Upstream(source, "repo", "");

        var files = await catalogue.ListAsync(upstream, "repo");

        Assert.Equal("repo-v1.raw", Assert.Single(files).Name);
        Assert.Empty(logger.Collector.GetSnapshot());
        await source.Received(1).GetManifestAsync("repo", Arg.Any<string>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task FindAsync_CosignSignatureTagName_NotResolved()
    {
        var (catalogue, _) = Create(TimeSpan.Zero);
        var source = Source("v1");
        var tag = "sha256-" + new string('a', 64) + ".sig";

        var file = await catalogue.FindAsync(new Upstream(source, "repo", ""), "repo", $"repo-{tag}.raw");

        Assert.Null(file);
        await source.DidNotReceive().GetManifestAsync("repo", Arg.Any<string>(), Arg.Any<CancellationToken>());
    }

    private sealed class Clock(TimeProvider time) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
}
