using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Sysupdate;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Catalogue;

/// <summary>
/// Creation dates from image configs, for files whose manifests carry no <c>org.opencontainers.image.created</c>
/// (what <c>docker push</c> and buildah write keep the date in the config). Only for the catalogue, never for
/// SHA256SUMS, and bounded: configs of at most <see cref="ManifestFacts.MaxConfigBytes"/>, at most
/// <see cref="MaxReadsPerRequest"/> of them, within <see cref="Budget"/>; a date that does not arrive in time is
/// left out. Configs are content-addressed, so a date read once holds for good and is cached by digest. A read that
/// failed is remembered for <see cref="FailureTtl"/> (at most <see cref="MaxFailures"/> digests, the digests being the
/// registry's choice), so that catalogue requests against a failing registry do not each read every config again.
/// </summary>
public sealed partial class ImageConfigDates(HybridCache cache, TimeProvider time, ILogger<ImageConfigDates> logger) : IDisposable
{
    public const int MaxReadsPerRequest = 32;

    /// <summary>How long a failed read is not tried again: long enough to spare a failing registry, short enough to recover.</summary>
    public static readonly TimeSpan FailureTtl = TimeSpan.FromMinutes(1);

    /// <summary>The most failed digests remembered.</summary>
    public const int MaxFailures = 4096;

    private readonly MemoryCache _failed = new(new MemoryCacheOptions { SizeLimit = MaxFailures, Clock = new MemoryCacheClock(time) });

    /// <summary>How long one catalogue request may spend reading configs.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(10);

    private const int Parallelism = 4;
    private static readonly HybridCacheEntryOptions Forever = new() { Expiration = TimeSpan.FromDays(1), LocalCacheExpiration = TimeSpan.FromDays(1) };

    /// <summary>The files, with <see cref="SysextFile.Created"/> filled from their configs where it was missing.</summary>
    public Task<IReadOnlyList<SysextFile>> FillAsync(Upstream upstream, IReadOnlyList<SysextFile> files, CancellationToken cancellationToken = default) =>
        FillAsync(upstream, files, MaxReadsPerRequest, unread: null, cancellationToken);

    /// <inheritdoc cref="FillAsync(Upstream, IReadOnlyList{SysextFile}, CancellationToken)"/>
    /// <param name="maxReads">How many configs to look at; a rollout needs every date, the page makes do with some.</param>
    /// <param name="unread">Collects the configs that could not be read (rather than read and found without a date).</param>
    public async Task<IReadOnlyList<SysextFile>> FillAsync(Upstream upstream, IReadOnlyList<SysextFile> files, int maxReads, ISet<Digest>? unread, CancellationToken cancellationToken = default)
    {
        var missing = files.Where(f => f.Created is null).Select(f => f.Config).OfType<Digest>().Distinct().ToList();
        // A config that failed a moment ago is not asked for again (FailureTtl), but it still counts as unread.
        var recentlyFailed = missing.Where(d => _failed.TryGetValue(d, out _)).ToHashSet();
        unread?.UnionWith(recentlyFailed);
        var wanted = missing.Where(d => !recentlyFailed.Contains(d)).Take(maxReads).ToList();
        if (wanted.Count == 0)
        {
            return files;
        }

        var read = new HashSet<Digest>();
        var dates = new Dictionary<Digest, DateTimeOffset>();
        // The budget counts on the injected clock, as every other wait here does.
        using var timer = new CancellationTokenSource(Budget, time);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            await Parallel.ForEachAsync(wanted, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = budget.Token }, async (digest, ct) =>
            {
                var (created, answered) = await CreatedAsync(upstream, digest, ct).ConfigureAwait(false);
                lock (dates)
                {
                    if (answered)
                    {
                        read.Add(digest);
                    }

                    if (ManifestFacts.ParseCreated(created) is { } date)
                    {
                        dates[digest] = date;
                    }
                }
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogBudgetSpent(logger, upstream.Repository, dates.Count, wanted.Count);
        }

        lock (dates)
        {
            unread?.UnionWith(wanted.Where(digest => !read.Contains(digest)));
            return [.. files.Select(f => f.Created is null && f.Config is { } config && dates.TryGetValue(config, out var date) ? f with { Created = date } : f)];
        }
    }

    /// <summary>The date a config holds, and whether the config could be read at all.</summary>
    private async Task<(string? Created, bool Read)> CreatedAsync(Upstream upstream, Digest digest, CancellationToken cancellationToken)
    {
        try
        {
            var created = await cache.GetOrCreateAsync(
                $"image-created|{digest}",
                (Source: upstream, Digest: digest, Time: time),
                static (state, ct) => ReadAsync(state.Source, state.Digest, state.Time, ct),
                Forever,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            return (created.Length == 0 ? null : created, true);
        }
        catch (Exception e) when (e is RegistryException or IOException or HttpRequestException)
        {
            // Cached only briefly: the registry may answer next time. A date is never worth failing the page for.
            LogConfigUnread(logger, upstream.Repository, digest.ToString(), e.Message);
            RememberFailure(digest);
            return (null, false);
        }
    }

    private void RememberFailure(Digest digest) =>
        _failed.Set(digest, true, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = FailureTtl });

    public void Dispose() => _failed.Dispose();

    /// <summary>The date the config holds ("" for none): its label first, which the publisher set, else <c>created</c>.</summary>
    private static async ValueTask<string> ReadAsync(Upstream upstream, Digest digest, TimeProvider time, CancellationToken cancellationToken)
    {
        // Larger than a config may be, or not the bytes the digest names: a failure, remembered briefly, not a date.
        var bytes = await CappedBlob.ReadAsync(upstream.Source, upstream.Repository, digest, (int)ManifestFacts.MaxConfigBytes, time, cancellationToken).ConfigureAwait(false);
        var config = ImageConfig.TryParse(bytes);
        var labelled = config?.Config?.Labels?.GetValueOrDefault(ManifestFacts.CreatedAnnotation);
        // Reproducible builds stamp the Unix epoch (SOURCE_DATE_EPOCH=0): no date is better than 1970.
        var created = ManifestFacts.ParseCreated(labelled) is not null ? labelled : config?.Created;
        return ManifestFacts.ParseCreated(created) is { Year: > 1970 } ? created! : "";
    }

    /// <summary>Values from outside, escaped (<see cref="LogText"/>) whatever the console formatter.</summary>
    private static void LogConfigUnread(ILogger logger, string repository, string digest, string reason) =>
        LogConfigUnreadRaw(logger, LogText.Escape(repository), LogText.Escape(digest), LogText.Escape(reason));

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Image config {Digest} of {Repository} not read for a date: {Reason}")]
    private static partial void LogConfigUnreadRaw(ILogger logger, string repository, string digest, string reason);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Catalogue of {Repository}: {Read} of {Wanted} image config dates read in time")]
    private static partial void LogBudgetSpent(ILogger logger, string repository, int read, int wanted);
}
