using Microsoft.Extensions.Logging;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Referrers;
using SysextFunctions.Rollouts;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// The catalogue's one step for rollouts: the policy under the reserved tag <see cref="RolloutPolicy.Tag"/> is read
/// with the listing (so a change shows within one listing's time to live everywhere), and the tag is never a version.
/// </summary>
public sealed partial class SysextListing
{
    /// <summary>Tags that are never versions: signatures and other referrers, and the rollout policy.</summary>
    private static bool IsVersionTag(string tag) => !ReferrerTags.IsReferrerTag(tag) && tag != RolloutPolicy.Tag;

    /// <summary>
    /// The policy of a repository whose listing shows the tag: read, capped, checked against its digest, verified
    /// (with cosign keys) and parsed; any failure is an answer (<see cref="PolicyRead.Failed"/>), never an exception,
    /// so that a broken policy freezes rollouts instead of breaking the listing.
    /// </summary>
    private async Task<PolicyRead> ReadPolicyAsync(Upstream upstream, IReadOnlyList<ListedTag> allTags, CancellationToken cancellationToken)
    {
        if (allTags.FirstOrDefault(tag => tag.Name == RolloutPolicy.Tag) is not { } listed)
        {
            return PolicyRead.None;
        }

        var repository = upstream.Repository;
        try
        {
            // Asked afresh every listing, whatever Cache:TagRecheck says: the policy is a tag that is meant to move.
            var digest = listed.Digest ?? await upstream.Source.ResolveAsync(repository, RolloutPolicy.Tag, cancellationToken).ConfigureAwait(false);
            var response = await upstream.Source.GetManifestAsync(repository, digest?.ToString() ?? RolloutPolicy.Tag, cancellationToken).ConfigureAwait(false);
            if (upstream.CosignKeys is { } keys)
            {
                if (verifier is null)
                {
                    throw new InvalidOperationException("cosign keys are configured but no SignatureVerifier is registered");
                }

                var known = allTags.Select(tag => tag.Name).ToHashSet(StringComparer.Ordinal);
                var verdict = await verifier.VerifyAsync(upstream.Source, repository, RolloutPolicy.Tag, response.Digest, keys, known, cancellationToken).ConfigureAwait(false);
                if (!verdict.Verified)
                {
                    return Refused(repository, $"not signed by a configured cosign key ({verdict.Reason})");
                }
            }

            if (response.Manifest.Layers is not [var layer] || layer.MediaType != RolloutPolicy.MediaType)
            {
                return Refused(repository, $"the {RolloutPolicy.Tag} manifest must have exactly one layer of type {RolloutPolicy.MediaType}");
            }

            if (layer.Size > RolloutPolicy.MaxBytes || layer.Size < 0)
            {
                return Refused(repository, $"the policy is larger than {RolloutPolicy.MaxBytes / 1024} KiB");
            }

            if (!Digest.TryParse(layer.Digest, out var layerDigest) || !layerDigest.IsSha256)
            {
                return Refused(repository, "the policy layer has no sha256 digest");
            }

            // Larger than a policy may be, or not the bytes its digest names: refused like any unreadable policy.
            var bytes = await CappedBlob.ReadAsync(upstream.Source, upstream.Repository, layerDigest, RolloutPolicy.MaxBytes, time, cancellationToken).ConfigureAwait(false);
            var policy = RolloutPolicy.Parse(bytes);
            return new PolicyRead(policy, null);
        }
        catch (FormatException e)
        {
            return Refused(repository, e.Message);
        }
        catch (RegistryException e)
        {
            return Refused(repository, $"cannot be read: {e.Failure}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return Refused(repository, $"cannot be read: {e.Message}");
        }
    }

    private PolicyRead Refused(string repository, string reason)
    {
        LogPolicyRefused(logger, repository, reason);
        return new PolicyRead(null, reason);
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Rollout policy of {Repository} refused, rollouts in progress are frozen: {Reason}")]
    private static partial void LogPolicyRefused(ILogger logger, string repository, string reason);
}

/// <summary>What a listing found under the policy tag: nothing, a policy, or why it could not be used.</summary>
public sealed record PolicyRead(RolloutPolicy? Policy, string? Error)
{
    public static PolicyRead None { get; } = new(null, null);

    public bool Failed => Error is not null;
}
