using SysextFunctions.Registry.Content;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Sysupdate;

/// <summary>The listing's one step for <c>Trust:CosignKeys</c>: a tag's manifest must carry a publisher's signature.</summary>
public sealed partial class SysextListing
{
    private async Task<bool> IsTrustedAsync(Upstream upstream, string tag, Digest digest, IReadOnlySet<string>? knownTags, CancellationToken cancellationToken)
    {
        if (upstream.CosignKeys is not { } keys)
        {
            return true;
        }

        var verdict = await verifier.VerifyAsync(upstream.Source, upstream.Repository, tag, digest, keys, knownTags, cancellationToken).ConfigureAwait(false);
        return verdict.Verified;
    }
}
