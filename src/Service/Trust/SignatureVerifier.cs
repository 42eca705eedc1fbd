using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Registry.Referrers;
using SysextFunctions.Registry.Remote;

namespace SysextFunctions.Trust;

/// <summary>
/// Decides whether a manifest digest carries a valid cosign signature by a key of a <see cref="CosignKeySet"/>:
/// Sigstore bundles attached as referrers (cosign 3) or the <c>sha256-&lt;hex&gt;.sig</c> tag (cosign 2). A verified
/// digest is remembered (per key set) until the cache needs the room, so a warm listing asks the registry nothing
/// more; an unverified one is remembered for <see cref="TrustOptions.UnsignedRecheck"/> (by digest and key set: a
/// manifest's content, and so its signature's subject, never changes), so that a warm listing of unsigned tags
/// costs no referrer look-ups either, and a signature added later counts once that has passed. Only verdicts are
/// remembered: a registry that failed to answer is asked again. Each refusal is logged once per digest and reason.
/// Transparency logs and certificates are not checked.
/// </summary>
public sealed partial class SignatureVerifier : IDisposable
{
    public const string BundleMediaTypePrefix = "application/vnd.dev.sigstore.bundle";
    public const string SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json";
    public const string SignatureAnnotation = "dev.cosignproject.cosign/signature";

    private const int MaxBundleBytes = 1024 * 1024;
    private const int MaxPayloadBytes = 64 * 1024;
    private const int MaxSignaturesPerManifest = 16;
    private const int CacheEntries = 100_000;

    private readonly MemoryCache _cache;
    private readonly ILogger<SignatureVerifier> _logger;
    private readonly TimeSpan _unsignedRecheck;
    private readonly TimeProvider _time;

    public SignatureVerifier(IOptions<TrustOptions> options, TimeProvider time, ILogger<SignatureVerifier> logger)
    {
        _logger = logger;
        _time = time;
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = CacheEntries, Clock = new MemoryCacheClock(time) });
        _unsignedRecheck = options.Value.UnsignedRecheck;
    }

    /// <param name="knownTags">The repository's tags, when the caller listed them: tags not among them are not asked for.</param>
    public async Task<TrustVerdict> VerifyAsync(IOciSource source, string repository, string tag, Digest digest, CosignKeySet keys, IReadOnlySet<string>? knownTags, CancellationToken cancellationToken = default)
    {
        // Signatures say who vouches for content, wherever it is stored: the digest and the keys are the whole key.
        var verifiedKey = $"v|{keys.Id}|{digest}";
        if (_cache.TryGetValue(verifiedKey, out string? how))
        {
            return TrustVerdict.Valid(how!);
        }

        // Refused recently: the same answer, without asking the registry (the cache runs on the injected clock).
        var refusedKey = $"u|{keys.Id}|{digest}";
        if (_cache.TryGetValue(refusedKey, out string? refused))
        {
            return TrustVerdict.Invalid(refused!);
        }

        var verdict = await CheckAsync(source, repository, digest, keys, knownTags, cancellationToken).ConfigureAwait(false);
        if (verdict.Verified)
        {
            _cache.Set(verifiedKey, verdict.Reason, new MemoryCacheEntryOptions { Size = 1 });
            LogVerified(_logger, repository, tag, digest.ToString(), verdict.Reason);
            return verdict;
        }

        if (_unsignedRecheck > TimeSpan.Zero)
        {
            _cache.Set(refusedKey, verdict.Reason, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = _unsignedRecheck });
        }

        var reportedKey = $"r|{keys.Id}|{digest}";
        if (!_cache.TryGetValue(reportedKey, out string? reported) || reported != verdict.Reason)
        {
            _cache.Set(reportedKey, verdict.Reason, new MemoryCacheEntryOptions { Size = 1 });
            LogRefused(_logger, repository, tag, digest.ToString(), verdict.Reason);
        }

        return verdict;
    }

    private async Task<TrustVerdict> CheckAsync(IOciSource source, string repository, Digest digest, CosignKeySet keys, IReadOnlySet<string>? knownTags, CancellationToken cancellationToken)
    {
        var reasons = new List<string>();

        // cosign 3: a Sigstore bundle in a manifest whose subject is this digest. cosign writes the artifact type on
        // the manifest; the index entry it adds under the referrers tag schema may say only "empty", so both count.
        var referrers = await ReferrersLookup.ListAsync(source, repository, digest, knownTags, cancellationToken).ConfigureAwait(false);
        foreach (var referrer in referrers.Where(IsBundleCandidate))
        {
            var verdict = await CheckBundleManifestAsync(source, repository, referrer, digest, keys, cancellationToken).ConfigureAwait(false);
            if (verdict.Verified)
            {
                return verdict;
            }

            reasons.Add(verdict.Reason);
        }

        // cosign 2: one simple-signing layer per signature, the signature itself in an annotation.
        var tag = ReferrerTags.CosignSignatureTag(digest);
        if (await TryAsync(() => ReferrersLookup.TryGetManifestAsync(source, repository, tag, knownTags, cancellationToken), reasons).ConfigureAwait(false) is { } signatures)
        {
            foreach (var layer in (signatures.Manifest.Layers ?? []).Where(l => l.MediaType == SimpleSigningMediaType).Take(MaxSignaturesPerManifest))
            {
                if (!Digest.TryParse(layer.Digest, out var payloadDigest))
                {
                    reasons.Add("cosign 2 signature layer has an invalid digest");
                    continue;
                }

                var payload = await TryAsync(async () => await CappedBlob.ReadAsync(source, repository, payloadDigest, MaxPayloadBytes, _time, cancellationToken).ConfigureAwait(false), reasons).ConfigureAwait(false);
                if (payload is null)
                {
                    continue;
                }

                var verdict = CosignSignatures.VerifySimpleSigning(payload, layer.Annotations?.GetValueOrDefault(SignatureAnnotation), digest, keys);
                if (verdict.Verified)
                {
                    return verdict;
                }

                reasons.Add(verdict.Reason);
            }
        }

        return TrustVerdict.Invalid(reasons.Count == 0 ? "no cosign signature (no Sigstore bundle referrer, no .sig tag)" : string.Join("; ", reasons.Distinct(StringComparer.Ordinal)));
    }

    private async Task<TrustVerdict> CheckBundleManifestAsync(IOciSource source, string repository, Descriptor referrer, Digest digest, CosignKeySet keys, CancellationToken cancellationToken)
    {
        var reasons = new List<string>();
        if (!Digest.TryParse(referrer.Digest, out var manifestDigest) || !manifestDigest.IsSha256)
        {
            return TrustVerdict.Invalid("referrer with an invalid digest");
        }

        var manifest = await TryAsync(async () => await source.GetManifestAsync(repository, manifestDigest.ToString(), cancellationToken).ConfigureAwait(false), reasons).ConfigureAwait(false);
        foreach (var layer in (manifest?.Manifest.Layers ?? []).Where(l => l.MediaType?.StartsWith(BundleMediaTypePrefix, StringComparison.Ordinal) == true).Take(MaxSignaturesPerManifest))
        {
            if (!Digest.TryParse(layer.Digest, out var bundleDigest))
            {
                reasons.Add("Sigstore bundle layer has an invalid digest");
                continue;
            }

            var bundle = await TryAsync(async () => await CappedBlob.ReadAsync(source, repository, bundleDigest, MaxBundleBytes, _time, cancellationToken).ConfigureAwait(false), reasons).ConfigureAwait(false);
            if (bundle is null)
            {
                continue;
            }

            var verdict = CosignSignatures.VerifyBundle(bundle, digest, keys);
            if (verdict.Verified)
            {
                return verdict;
            }

            reasons.Add(verdict.Reason);
        }

        return TrustVerdict.Invalid(reasons.Count == 0 ? "referrer holds no Sigstore bundle" : string.Join("; ", reasons));
    }

    private static bool IsBundleCandidate(Descriptor referrer) =>
        MediaTypes.IsImageManifest(referrer.MediaType)
        && (referrer.ArtifactType is null or MediaTypes.OciEmpty || referrer.ArtifactType.StartsWith(BundleMediaTypePrefix, StringComparison.Ordinal));

    /// <summary>
    /// A signature artifact that is missing or unreadable is a reason not to trust, not a failure of the listing;
    /// a registry that is down or denies us fails the listing, as it would for any manifest.
    /// </summary>
    private static async Task<T?> TryAsync<T>(Func<Task<T?>> fetch, List<string> reasons)
        where T : class
    {
        try
        {
            return await fetch().ConfigureAwait(false);
        }
        catch (RegistryException e) when (e.Failure is RegistryFailure.NotFound or RegistryFailure.InvalidResponse)
        {
            reasons.Add(e.Message);
            return null;
        }
    }

    public void Dispose() => _cache.Dispose();

    /// <summary>Values from outside, escaped (<see cref="LogText"/>) whatever the console formatter.</summary>
    private static void LogVerified(ILogger logger, string repository, string tag, string digest, string how) =>
        LogVerifiedRaw(logger, LogText.Escape(repository), LogText.Escape(tag), LogText.Escape(digest), LogText.Escape(how));

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Verified {Repository}:{Tag} ({Digest}): {How}")]
    private static partial void LogVerifiedRaw(ILogger logger, string repository, string tag, string digest, string how);

    /// <summary>Values from outside, escaped (<see cref="LogText"/>) whatever the console formatter.</summary>
    private static void LogRefused(ILogger logger, string repository, string tag, string digest, string reason) =>
        LogRefusedRaw(logger, LogText.Escape(repository), LogText.Escape(tag), LogText.Escape(digest), LogText.Escape(reason));

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Not listing {Repository}:{Tag} ({Digest}): {Reason}")]
    private static partial void LogRefusedRaw(ILogger logger, string repository, string tag, string digest, string reason);
}
