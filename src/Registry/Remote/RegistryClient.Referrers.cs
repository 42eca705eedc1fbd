using System.Net.Http.Headers;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Registry.Remote;

/// <summary>The OCI 1.1 referrers API: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers</summary>
public sealed partial class RegistryClient
{
    private const int MaxReferrerPages = 16;

    /// <summary>The capability <see cref="Capabilities"/> remembers for a repository whose registry answered the referrers API with 404.</summary>
    public const string ReferrersApi = "referrers";

    /// <summary>
    /// The referrers of <paramref name="subject"/>, following <c>Link</c> pages; null when the registry has no
    /// referrers API. The spec forbids a registry that has it to answer 404, so a 404 (or another 4xx but 401, 403
    /// and 429) means it has not: remembered for that repository (<see cref="Capabilities"/>), a registry without
    /// the API (distribution 2.8, Debian's docker-registry) is asked again only now and then. A refusal is no such
    /// answer, and fails this lookup only.
    /// </summary>
    public async Task<IReadOnlyList<Descriptor>?> GetReferrersAsync(string repository, Digest subject, CancellationToken cancellationToken = default)
    {
        if (Capabilities.Lacks(ReferrersApi, repository))
        {
            return null;
        }

        var what = $"referrers of '{repository}@{subject}'";
        var referrers = new List<Descriptor>();
        Uri? next = new(BaseAddress, $"v2/{repository}/referrers/{subject}");
        for (var page = 0; next is not null && page < MaxReferrerPages; page++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, next);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.OciIndex));
            HttpResponseMessage response;
            try
            {
                response = await SendMetadataAsync(request, what, cancellationToken).ConfigureAwait(false);
            }
            catch (RegistryException e) when (page == 0 && e.Failure is RegistryFailure.NotFound or RegistryFailure.InvalidResponse)
            {
                Capabilities.Missing(ReferrersApi, repository);
                return null;
            }

            using (response)
            {
                var body = await ReadCappedAsync(response, ManifestResponse.MaxBytes, what, cancellationToken).ConfigureAwait(false);
                referrers.AddRange(ManifestResponse.ParseManifest(body, MediaTypes.OciIndex, what).Manifests ?? []);
                next = LinkHeader.Next(response, next);
            }
        }

        return referrers;
    }
}
