using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Registry.Remote;

/// <summary>The OCI 1.1 referrers API: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers</summary>
public sealed partial class RegistryClient
{
    private const int MaxReferrerPages = 16;

    // A registry without the API (distribution 2.8, Debian's docker-registry) is asked again only now and then.
    private static readonly TimeSpan ReferrersProbeInterval = TimeSpan.FromMinutes(10);

    private long _referrersUnsupportedUntil = long.MinValue;

    /// <summary>
    /// The referrers of <paramref name="subject"/>, following <c>Link</c> pages; null when the registry has no
    /// referrers API. The spec forbids a registry that has it to answer 404, so a 404 (or another 4xx) means it has not.
    /// </summary>
    public async Task<IReadOnlyList<Descriptor>?> GetReferrersAsync(string repository, Digest subject, CancellationToken cancellationToken = default)
    {
        if (_time.GetTimestamp() < Interlocked.Read(ref _referrersUnsupportedUntil))
        {
            return null;
        }

        var what = $"referrers of '{repository}@{subject}'";
        var first = new Uri(BaseAddress, $"v2/{repository}/referrers/{subject}");
        var pages = 0;
        try
        {
            var listed = await ReadPagesAsync(
                new PagedListing<Descriptor>(
                    what,
                    first,
                    PageSize: 0,
                    ManifestResponse.MaxBytes,
                    body =>
                    {
                        pages++;
                        return ManifestResponse.ParseManifest(body, MediaTypes.OciIndex, what).Manifests ?? [];
                    },
                    referrer => referrer.Digest ?? "",
                    After: null,
                    MaxPages: MaxReferrerPages,
                    Accept: MediaTypes.OciIndex),
                cancellationToken).ConfigureAwait(false);
            return listed.Items;
        }
        catch (RegistryException e) when (pages == 0 && e.Failure is RegistryFailure.NotFound or RegistryFailure.InvalidResponse)
        {
            // No API (the spec forbids a 404 from a registry that has it): ask again only now and then.
            Interlocked.Exchange(ref _referrersUnsupportedUntil, _time.GetTimestamp() + (long)(ReferrersProbeInterval.TotalSeconds * _time.TimestampFrequency));
            return null;
        }
    }
}
