using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using SysextFunctions.Catalogue;
using SysextFunctions.Http;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Rollouts;
using SysextFunctions.Sysupdate;
using SysextFunctions.Trust;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Tests.Unit.Service.Rollouts;

/// <summary>
/// The policy read with each listing and what machines get from it, over a substituted source (no registry) and a
/// <see cref="FakeTimeProvider"/>: halts through the policy, and each way a policy can be broken.
/// </summary>
public sealed class RolloutServiceTests : IDisposable
{
    private const string Repository = "sysexts/app";
    private static readonly DateTimeOffset V1Published = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset V2Published = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly IReadOnlyList<MachineHash> Fleet =
        [.. Enumerable.Range(0, 400).Select(i => new MachineKeys("fleet").TryHash($"machine-{i:D10}")!.Value)];

    private readonly FakeTimeProvider _time = new(V2Published.AddHours(1));
    private readonly SignatureVerifier _verifier;
    private readonly SysextMetrics _metrics;
    private readonly FakeLogCollector _log = new();
    private readonly ServiceProvider _services;
    private readonly SysextListing _catalogue;
    private readonly RolloutService _rollouts;
    private readonly IOciSource _source = Substitute.For<IOciSource>();
    private readonly Dictionary<string, ManifestResponse> _manifests = [];
    private readonly Dictionary<Digest, byte[]> _blobs = [];
    private List<string> _tags = ["v1", "v2"];
    private bool _policyUnavailable;

    public RolloutServiceTests()
    {
        var services = new ServiceCollection().AddSingleton<TimeProvider>(_time).AddLogging(l => l.AddProvider(new FakeLoggerProvider(_log)).SetMinimumLevel(LogLevel.Debug));
        services.AddHybridCache();
        services.AddMetrics();
        _services = services.BuildServiceProvider();
        _metrics = new SysextMetrics(_services.GetRequiredService<IMeterFactory>());
        var loggers = _services.GetRequiredService<ILoggerFactory>();
        _verifier = new SignatureVerifier(Options.Create(new TrustOptions()), _time, loggers.CreateLogger<SignatureVerifier>());
        // Listed afresh on every request: each step of a test sees the policy as it is now.
        _catalogue = new SysextListing(_services.GetRequiredService<HybridCache>(), Options.Create(new CacheOptions { ChecksumsTtl = TimeSpan.Zero }), ChecksumsSigner.None, _verifier, _time, loggers.CreateLogger<SysextListing>());
        _rollouts = new RolloutService(
            new ImageConfigDates(_services.GetRequiredService<HybridCache>(), _time, loggers.CreateLogger<ImageConfigDates>()),
            ChecksumsSigner.None,
            Options.Create(new RolloutOptions()),
            _time,
            loggers.CreateLogger<RolloutService>(), _metrics);

        Version("v1", V1Published, 'a');
        Version("v2", V2Published, 'b');
        _source.ListTagsAsync("app", Arg.Any<CancellationToken>()).Returns(_ => _tags);
        _source.GetManifestAsync("app", Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(call =>
            _policyUnavailable && call.ArgAt<string>(1) == RolloutPolicy.Tag ? throw new RegistryException(RegistryFailure.Unavailable, "registry answered 503")
            : _manifests.TryGetValue(call.ArgAt<string>(1), out var manifest) ? manifest : throw new RegistryException(RegistryFailure.NotFound, "no such manifest"));
        _source.GetBlobAsync("app", Arg.Any<Digest>(), Arg.Any<bool>(), Arg.Any<CancellationToken>()).Returns(call =>
            BlobResponse.FromStream(new MemoryStream(_blobs[call.ArgAt<Digest>(1)]), _blobs[call.ArgAt<Digest>(1)].Length));
    }

    private IEnumerable<string> LogLines => _log.GetSnapshot().Select(r => $"{r.Level} {r.Category}: {r.Message}");

    private Upstream Upstream => new(_source, "app", "") { Rollout = RolloutSchedule.Parse("50%@0h,100%@2d") };

    public void Dispose()
    {
        _verifier.Dispose();
        _rollouts.Dispose();
        _services.Dispose();
    }

    private void Version(string tag, DateTimeOffset? created, char fill)
    {
        var annotations = created is { } date ? $$""","annotations":{"org.opencontainers.image.created":"{{date:yyyy-MM-ddTHH:mm:ssZ}}"}""" : "";
        _manifests[tag] = Manifest($$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.OciManifest}}}","layers":[{"mediaType":"{{{MediaTypes.OciLayerTar}}}","digest":"sha256:{{{new string(fill, 64)}}}","size":1,"annotations":{"org.opencontainers.image.title":"app-{{{tag}}}.raw"}}]{{{annotations}}}}""");
    }

    /// <summary>Pushes a policy: its blob, and a manifest that says <paramref name="size"/> (the blob's own by default).</summary>
    private void Policy(string json, long? size = null, string mediaType = RolloutPolicy.MediaType)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var digest = Digest.Sha256(System.Security.Cryptography.SHA256.HashData(bytes));
        _blobs[digest] = bytes;
        _policyUnavailable = false;
        _manifests[RolloutPolicy.Tag] = Manifest($$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"{{mediaType}}","digest":"{{digest}}","size":{{size ?? bytes.Length}}}]}""");
        if (!_tags.Contains(RolloutPolicy.Tag))
        {
            _tags = [.. _tags, RolloutPolicy.Tag];
        }
    }

    private static ManifestResponse Manifest(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        return new ManifestResponse(Digest.Sha256(System.Security.Cryptography.SHA256.HashData(bytes)), SysextFunctions.Registry.Oci.Manifest.Parse(bytes, null), bytes.Length);
    }

    private static string Halt(DateTimeOffset from) => "{\"versions\": {\"v2\": {\"pauses\": [{\"from\": \"" + Rfc3339(from) + "\"}]}}}";

    private static string Rfc3339(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

    private async Task<RepositoryRollout> RolloutAsync()
    {
        var snapshot = await _catalogue.SnapshotAsync(Upstream, "app");
        return (await _rollouts.GetAsync(Upstream, snapshot))!;
    }

    /// <summary>Which machines of the fleet see v2 in their SHA256SUMS now.</summary>
    private async Task<HashSet<int>> OfferedV2Async()
    {
        var snapshot = await _catalogue.SnapshotAsync(Upstream, "app");
        var rollout = await _rollouts.GetAsync(Upstream, snapshot);
        var offered = new HashSet<int>();
        for (var i = 0; i < Fleet.Count; i++)
        {
            var list = Encoding.ASCII.GetString(_rollouts.ChecksumsFor(snapshot, rollout, Fleet[i], Repository).Body);
            Assert.Contains("app-v1.raw", list, StringComparison.Ordinal);
            if (list.Contains("app-v2.raw", StringComparison.Ordinal))
            {
                offered.Add(i);
            }
        }

        return offered;
    }

    [Fact]
    public async Task ChecksumsFor_NoPolicy_HalfTheFleetThenAll()
    {
        var offered = await OfferedV2Async();
        Assert.InRange(offered.Count, 140, 260);
        Assert.Equal(RepositoryRollout.NoPolicy, (await RolloutAsync()).Policy);

        _time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(Fleet.Count, (await OfferedV2Async()).Count);
    }

    [Fact]
    public async Task ChecksumsFor_DistinctLists_SignedOncePerList()
    {
        var signer = ChecksumsSigner.Load(SecretKey(), null);
        var rollouts = new RolloutService(
            new ImageConfigDates(_services.GetRequiredService<HybridCache>(), _time, _services.GetRequiredService<ILoggerFactory>().CreateLogger<ImageConfigDates>()),
            signer,
            Options.Create(new RolloutOptions()),
            _time,
            _services.GetRequiredService<ILoggerFactory>().CreateLogger<RolloutService>(), _metrics);
        var catalogue = new SysextListing(_services.GetRequiredService<HybridCache>(), Options.Create(new CacheOptions { ChecksumsTtl = TimeSpan.Zero }), signer, _verifier, _time, _services.GetRequiredService<ILoggerFactory>().CreateLogger<SysextListing>());
        var snapshot = await catalogue.SnapshotAsync(Upstream, "app");
        var rollout = await rollouts.GetAsync(Upstream, snapshot);

        var lists = Fleet.Select(machine => rollouts.ChecksumsFor(snapshot, rollout, machine, Repository)).ToList();

        // Two lists (with v2, without), one signature each, the same bytes for every machine that sees the same list.
        Assert.Equal(2, lists.Select(l => l.ETag).Distinct().Count());
        Assert.Equal(1, rollouts.ListsSigned);
        Assert.All(lists, l => Assert.NotNull(l.Signature));
        Assert.Equal(snapshot.Signature, lists.First(l => l.ETag == snapshot.ETag).Signature);
    }

    [Fact]
    public async Task GetAsync_SameSnapshot_OneEvaluationUntilTheNextStep()
    {
        var upstream = Upstream;
        var snapshot = await _catalogue.SnapshotAsync(upstream, "app");
        var first = await _rollouts.GetAsync(upstream, snapshot);
        _time.Advance(TimeSpan.FromHours(46));
        Assert.Same(first, await _rollouts.GetAsync(upstream, snapshot));

        // v2's last step is two days after it was published, an hour before the clock started.
        _time.Advance(TimeSpan.FromHours(1) - TimeSpan.FromTicks(1));
        Assert.Same(first, await _rollouts.GetAsync(upstream, snapshot));
        _time.Advance(TimeSpan.FromTicks(1));
        var next = await _rollouts.GetAsync(upstream, snapshot);
        Assert.NotSame(first, next);
        Assert.Equal(0.5, first!.For("v2")!.Share);
        Assert.True(next!.For("v2")!.Complete);
    }

    [Fact]
    public async Task ChecksumsFor_SameSnapshotAcrossAStep_KnownMachinesGetTheNewList()
    {
        var upstream = Upstream;
        var snapshot = await _catalogue.SnapshotAsync(upstream, "app");
        var rollout = await _rollouts.GetAsync(upstream, snapshot);
        var without = Fleet.Where(machine => !Encoding.ASCII.GetString(_rollouts.ChecksumsFor(snapshot, rollout, machine, Repository).Body).Contains("app-v2.raw", StringComparison.Ordinal)).ToList();
        Assert.InRange(without.Count, 140, 260);
        // Asked again at once: the same answer (from what is kept about each machine).
        Assert.All(without, machine => Assert.DoesNotContain("app-v2.raw", Encoding.ASCII.GetString(_rollouts.ChecksumsFor(snapshot, rollout, machine, Repository).Body), StringComparison.Ordinal));

        _time.Advance(TimeSpan.FromDays(2));
        rollout = await _rollouts.GetAsync(upstream, snapshot);
        Assert.All(without, machine => Assert.Contains("app-v2.raw", Encoding.ASCII.GetString(_rollouts.ChecksumsFor(snapshot, rollout, machine, Repository).Body), StringComparison.Ordinal));
    }

    [Fact]
    public async Task ChecksumsFor_KnownMachineNextDay_NewBestBeforeMarker()
    {
        var signer = ChecksumsSigner.Load(SecretKey(), null, TimeSpan.FromDays(7));
        using var rollouts = new RolloutService(
            new ImageConfigDates(_services.GetRequiredService<HybridCache>(), _time, _services.GetRequiredService<ILoggerFactory>().CreateLogger<ImageConfigDates>()),
            signer,
            Options.Create(new RolloutOptions()),
            _time,
            _services.GetRequiredService<ILoggerFactory>().CreateLogger<RolloutService>(), _metrics);
        var upstream = Upstream;
        // Two minutes to midnight: the machine asks again five minutes later, on the next day.
        _time.SetUtcNow(new DateTimeOffset(_time.GetUtcNow().UtcDateTime.Date.AddDays(1).AddMinutes(-2), TimeSpan.Zero));
        var snapshot = await _catalogue.SnapshotAsync(upstream, "app");
        var rollout = await rollouts.GetAsync(upstream, snapshot);
        var machine = Fleet.First(m => !Encoding.ASCII.GetString(rollouts.ChecksumsFor(snapshot, rollout, m, Repository).Body).Contains("app-v2.raw", StringComparison.Ordinal));
        var today = Encoding.ASCII.GetString(rollouts.ChecksumsFor(snapshot, rollout, machine, Repository).Body);

        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Same(rollout, await rollouts.GetAsync(upstream, snapshot));
        var tomorrow = Encoding.ASCII.GetString(rollouts.ChecksumsFor(snapshot, rollout, machine, Repository).Body);
        Assert.Contains($"BEST-BEFORE-{_time.GetUtcNow().AddDays(6):yyyy-MM-dd}", today, StringComparison.Ordinal);
        Assert.Contains($"BEST-BEFORE-{_time.GetUtcNow().AddDays(7):yyyy-MM-dd}", tomorrow, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policy_Halt_NoNewMachinesThoseOfferedKeepIt()
    {
        var before = await OfferedV2Async();
        Policy(Halt(_time.GetUtcNow()));
        _time.Advance(TimeSpan.FromDays(3));

        Assert.Equal(before, await OfferedV2Async());
        var v2 = (await RolloutAsync()).For("v2")!;
        Assert.True(v2.Halted);
        Assert.Equal(RepositoryRollout.PolicyOk, (await RolloutAsync()).Policy);

        // Resumed a day later: the schedule goes on, shifted by the day.
        Policy("{\"versions\": {\"v2\": {\"pauses\": [{\"from\": \"" + Rfc3339(V2Published.AddHours(1)) + "\", \"until\": \"" + Rfc3339(V2Published.AddHours(25)) + "\"}]}}}");
        Assert.Equal(Fleet.Count, (await OfferedV2Async()).Count);
    }

    [Fact]
    public async Task Policy_Promote_EveryMachine()
    {
        Policy("""{"versions": {"v2": {"promote": true}}}""");
        Assert.Equal(Fleet.Count, (await OfferedV2Async()).Count);
        Assert.True((await RolloutAsync()).For("v2")!.Promoted);
    }

    [Fact]
    public async Task Policy_NamesUnknownVersions_LoggedAndIgnored()
    {
        Policy("""{"versions": {"v7": {"promote": true}, "v2": {"steps": "10%@0h,100%@1d"}}}""");
        var rollout = await RolloutAsync();
        Assert.Equal(RepositoryRollout.PolicyOk, rollout.Policy);
        Assert.Equal(0.1, rollout.For("v2")!.Share);
        Assert.Contains(LogLines, line => line.Contains("names v7, which is not a version there", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Policy_NeverListedAsAVersion()
    {
        Policy("{}");
        var snapshot = await _catalogue.SnapshotAsync(Upstream, "app");
        Assert.Equal(["v1", "v2"], snapshot.Files.Select(f => f.Version));
        Assert.Null(await _catalogue.FindAsync(Upstream, "app", "app-_rollout.raw"));
    }

    public static TheoryData<string, string> BrokenPolicies => new()
    {
        { "malformed", "not a rollout policy" },
        { "huge", "larger than 64 KiB" },
        { "lying-size", "larger than 65536 bytes" },
        { "media-type", "exactly one layer of type" },
        { "unreadable", "cannot be read" },
    };

    [Theory]
    [MemberData(nameof(BrokenPolicies))]
    public async Task Policy_Broken_InProgressFrozenAtLastGoodCompleteUntouched(string how, string reason)
    {
        Policy("{}");
        var before = await OfferedV2Async();
        var failedAt = _time.GetUtcNow();
        Break(how);
        // The next listing sees the failure: the rollout freezes as it stood then.
        Assert.True((await RolloutAsync()).PolicyFailed);
        _time.Advance(TimeSpan.FromDays(5));

        var rollout = await RolloutAsync();
        Assert.Contains(reason, rollout.Policy, StringComparison.Ordinal);
        Assert.True(rollout.PolicyFailed);
        Assert.True(rollout.For("v1")!.Complete);
        Assert.True(rollout.For("v2")!.Halted);
        Assert.Equal(before, await OfferedV2Async());
        Assert.Contains(LogLines, line => line.StartsWith("Warning", StringComparison.Ordinal) && line.Contains("Rollout policy of app refused", StringComparison.Ordinal));

        // Mended: the schedule takes over again (v2 is past its last step by now).
        Policy("{}");
        Assert.Equal(Fleet.Count, (await OfferedV2Async()).Count);
        Assert.True(failedAt < _time.GetUtcNow());
    }

    [Fact]
    public async Task Policy_BrokenWithNoGoodOneKnown_InProgressHeldAtFirstStep()
    {
        var rollouts = new RolloutService(
            new ImageConfigDates(_services.GetRequiredService<HybridCache>(), _time, _services.GetRequiredService<ILoggerFactory>().CreateLogger<ImageConfigDates>()),
            ChecksumsSigner.None,
            Options.Create(new RolloutOptions()),
            _time,
            _services.GetRequiredService<ILoggerFactory>().CreateLogger<RolloutService>(), _metrics);
        Policy("{\"versions\": ");
        var snapshot = await _catalogue.SnapshotAsync(new Upstream(_source, "app", "") { Rollout = RolloutSchedule.Parse("10%@0h,50%@1h,100%@2d") }, "app");
        _time.Advance(TimeSpan.FromHours(5));

        var rollout = await rollouts.GetAsync(new Upstream(_source, "app", "") { Rollout = RolloutSchedule.Parse("10%@0h,50%@1h,100%@2d") }, snapshot);
        Assert.Equal(0.1, rollout!.For("v2")!.Share);
        Assert.True(rollout.For("v1")!.Complete);
    }

    [Fact]
    public async Task Version_WithoutDate_OfferedToAllAndWarned()
    {
        Version("v3", null, 'c');
        _tags = [.. _tags, "v3"];
        var snapshot = await _catalogue.SnapshotAsync(Upstream, "app");
        var rollout = await _rollouts.GetAsync(Upstream, snapshot);

        Assert.False(rollout!.For("v3")!.Phased);
        Assert.All(Fleet, machine => Assert.Contains("app-v3.raw", Encoding.ASCII.GetString(_rollouts.ChecksumsFor(snapshot, rollout, machine, Repository).Body), StringComparison.Ordinal));
        Assert.Contains(LogLines, line => line.StartsWith("Warning", StringComparison.Ordinal) && line.Contains("app:v3 has no publish date", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PlainPath_Complete_OnlyFullyRolledOut()
    {
        var rollouts = new RolloutService(
            new ImageConfigDates(_services.GetRequiredService<HybridCache>(), _time, _services.GetRequiredService<ILoggerFactory>().CreateLogger<ImageConfigDates>()),
            ChecksumsSigner.None,
            Options.Create(new RolloutOptions { PlainPath = PlainPathListing.Complete }),
            _time,
            _services.GetRequiredService<ILoggerFactory>().CreateLogger<RolloutService>(), _metrics);
        var snapshot = await _catalogue.SnapshotAsync(Upstream, "app");
        var list = Encoding.ASCII.GetString(rollouts.ChecksumsFor(snapshot, await rollouts.GetAsync(Upstream, snapshot), null, Repository).Body);
        Assert.Contains("app-v1.raw", list, StringComparison.Ordinal);
        Assert.DoesNotContain("app-v2.raw", list, StringComparison.Ordinal);

        // The default: the plain path lists everything, exactly the snapshot.
        Assert.Same(snapshot.Checksums, _rollouts.ChecksumsFor(snapshot, await _rollouts.GetAsync(Upstream, snapshot), null, Repository).Body);
    }

    /// <summary>An OpenPGP secret key made in memory (no gpg): what <c>gpg --export-secret-keys</c> would give.</summary>
    internal static byte[] SecretKey()
    {
        var generator = new Org.BouncyCastle.Crypto.Generators.RsaKeyPairGenerator();
        generator.Init(new Org.BouncyCastle.Crypto.KeyGenerationParameters(new Org.BouncyCastle.Security.SecureRandom(), 2048));
        var pair = new Org.BouncyCastle.Bcpg.OpenPgp.PgpKeyPair(Org.BouncyCastle.Bcpg.PublicKeyAlgorithmTag.RsaGeneral, generator.GenerateKeyPair(), DateTime.UtcNow);
        var key = new Org.BouncyCastle.Bcpg.OpenPgp.PgpSecretKey(
            Org.BouncyCastle.Bcpg.OpenPgp.PgpSignature.DefaultCertification, pair, "rollout test", Org.BouncyCastle.Bcpg.SymmetricKeyAlgorithmTag.Null,
            (char[]?)null, false, null, null, new Org.BouncyCastle.Security.SecureRandom());
        return key.GetEncoded();
    }

    private void Break(string how)
    {
        switch (how)
        {
            case "malformed":
                Policy("""{"versions": {"v2": {"paused": true}}}""");
                break;
            case "huge":
                Policy("{}", size: RolloutPolicy.MaxBytes + 1);
                break;
            case "lying-size":
                Policy("{\"versions\": {}}" + new string(' ', RolloutPolicy.MaxBytes), size: 16);
                break;
            case "media-type":
                Policy("{}", mediaType: "application/json");
                break;
            default:
                _policyUnavailable = true;
                break;
        }
    }
}
