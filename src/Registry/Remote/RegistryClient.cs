using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Registry.Remote;

/// <summary>
/// A client of one registry's distribution API (https://github.com/opencontainers/distribution-spec/blob/main/spec.md).
/// The <see cref="HttpClient"/> it is given must not follow redirects: blob redirects are followed here, so that
/// they can be passed on to clients and so that credentials never travel to another host.
/// </summary>
public sealed partial class RegistryClient : IOciSource
{
    /// <summary>
    /// Set on blob requests, so that a resilience pipeline can leave them alone: a blob body streams for as long as
    /// it takes and must not be retried or timed out once bytes may have reached a client.
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> BlobRequest = new("SysextFunctions.BlobRequest");

    private const int MaxRedirects = 5;
    private const int MaxTagPages = 10_000;

    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly UpstreamTimeouts _timeouts;

    public RegistryClient(HttpClient http, Uri baseAddress, UpstreamTimeouts timeouts, TimeProvider time, ILogger<RegistryClient> logger)
    {
        if (!baseAddress.IsAbsoluteUri || baseAddress.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"registry URL '{baseAddress}' must be an absolute http or https URL", nameof(baseAddress));
        }

        _http = http;
        BaseAddress = Origin.AsBase(baseAddress);
        _timeouts = timeouts;
        _logger = logger;
        Capabilities = new RepositoryCapabilities(time);
    }

    public Uri BaseAddress { get; }

    /// <summary>What this registry showed it cannot do, per repository (the referrers API; ACR's <c>_tags</c> beside it).</summary>
    public RepositoryCapabilities Capabilities { get; }

    /// <summary>
    /// Whether the client's pipeline authenticates to the registry. Then the registry's own URLs are useless to
    /// clients (and must not be handed out): only a redirect to the registry's storage is passed on.
    /// </summary>
    public bool Authenticated { get; init; }

    /// <summary>Every tag of a repository, following <c>Link: &lt;…&gt;; rel="next"</c> pages to the end.</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken = default)
    {
        var tags = new List<string>();
        Uri? next = new(BaseAddress, $"v2/{repository}/tags/list");
        for (var page = 0; next is not null; page++)
        {
            if (page == MaxTagPages)
            {
                throw new RegistryException(RegistryFailure.InvalidResponse, $"tag list of '{repository}' has more than {MaxTagPages} pages");
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, next);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await SendMetadataAsync(request, $"tags of '{repository}'", cancellationToken).ConfigureAwait(false);
            var body = await ReadCappedAsync(response, ManifestResponse.MaxBytes, $"tag list of '{repository}'", cancellationToken).ConfigureAwait(false);
            TagList? list;
            try
            {
                list = JsonSerializer.Deserialize(body, OciJsonContext.Default.TagList);
            }
            catch (JsonException e)
            {
                throw new RegistryException(RegistryFailure.InvalidResponse, $"tag list of '{repository}' is not valid JSON", e);
            }

            // Registries answer null, not [], for a repository whose tags were all deleted.
            tags.AddRange(list?.Tags ?? []);
            next = LinkHeader.Next(response, next);
        }

        return tags;
    }

    /// <summary>Fetches and parses the manifest a tag or digest points at, checking the bytes against their digest.</summary>
    public async Task<ManifestResponse> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseAddress, $"v2/{repository}/manifests/{reference}"));
        foreach (var mediaType in MediaTypes.AcceptedManifests)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        }

        var what = $"manifest '{repository}:{reference}'";
        using var response = await SendMetadataAsync(request, what, cancellationToken).ConfigureAwait(false);
        var bytes = await ReadCappedAsync(response, ManifestResponse.MaxBytes, what, cancellationToken).ConfigureAwait(false);
        var digest = Digest.Sha256(SHA256.HashData(bytes));

        // The content is addressed by its hash: a digest reference or a Docker-Content-Digest header that
        // disagrees with the bytes means a broken or lying upstream.
        if (Digest.TryParse(reference, out var requested) && requested.IsSha256 && requested != digest)
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, $"{what} does not match its digest");
        }

        if (Digest.TryParse(HeaderValue(response, "Docker-Content-Digest"), out var announced) && announced.IsSha256 && announced != digest)
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, $"{what} does not match its Docker-Content-Digest");
        }

        return ManifestResponse.Parse(digest, bytes, response.Content.Headers.ContentType?.MediaType, what);
    }

    /// <summary>Resolves a tag to its manifest digest with a HEAD request, or null if the registry does not say.</summary>
    public async Task<Digest?> ResolveAsync(string repository, string tag, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri(BaseAddress, $"v2/{repository}/manifests/{tag}"));
        foreach (var mediaType in MediaTypes.AcceptedManifests)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        }

        using var response = await SendMetadataAsync(request, $"manifest '{repository}:{tag}'", cancellationToken).ConfigureAwait(false);
        return Digest.TryParse(HeaderValue(response, "Docker-Content-Digest"), out var digest) && digest.IsSha256 ? digest : null;
    }

    /// <summary>
    /// The blob's URL for clients to fetch themselves: the registry's own, when it wants no credentials; null when it
    /// does (then its URL is useless to clients and must not be handed out).
    /// </summary>
    public Uri? BlobUri(string repository, Digest digest) => Authenticated ? null : ApiBlobUri(repository, digest);

    /// <summary>
    /// Asks for a blob. With <paramref name="followRedirects"/> false, a redirect to the registry's storage is
    /// returned as <see cref="BlobResponse.RedirectTo"/>; otherwise redirects are followed, without credentials
    /// once they leave the registry's host, and the open response is returned for streaming.
    /// </summary>
    public async Task<BlobResponse> GetBlobAsync(string repository, Digest digest, bool followRedirects, CancellationToken cancellationToken = default)
    {
        var uri = ApiBlobUri(repository, digest);
        var what = $"blob '{repository}@{digest}'";
        for (var hop = 0; ; hop++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Options.Set(BlobRequest, true);
            HttpResponseMessage response;
            bool authorized;
            try
            {
                response = await SendAsync(request, what, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                authorized = request.Options.TryGetValue(Auth.RegistryAuthHandler.AuthorizedOption, out var sent) && sent;
            }
            finally
            {
                request.Dispose();
            }

            if (!IsRedirect(response.StatusCode))
            {
                if (!response.IsSuccessStatusCode)
                {
                    using (response)
                    {
                        throw await ErrorResponse.ToExceptionAsync(response, what, cancellationToken).ConfigureAwait(false);
                    }
                }

                try
                {
                    var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    // Docker-Content-Digest is optional on blob responses; when present it must name what we asked for.
                    Digest? labelled = Digest.TryParse(HeaderValue(response, "Docker-Content-Digest"), out var announced) ? announced : null;
                    return BlobResponse.FromStream(stream, response.Content.Headers.ContentLength, response, labelled, _timeouts.Idle);
                }
                catch
                {
                    response.Dispose();
                    throw;
                }
            }

            var location = response.Headers.Location;
            response.Dispose();
            if (location is null)
            {
                throw new RegistryException(RegistryFailure.InvalidResponse, $"{what}: redirect without a Location");
            }

            location = location.IsAbsoluteUri ? location : new Uri(uri, location);
            // A redirect within a registry that wanted credentials (even an anonymous token) is no storage URL a
            // client could use: follow it here.
            if (!followRedirects && !((Authenticated || authorized) && Origin.Same(location, BaseAddress)))
            {
                return BlobResponse.Redirect(location);
            }

            if (hop == MaxRedirects)
            {
                throw new RegistryException(RegistryFailure.InvalidResponse, $"{what}: more than {MaxRedirects} redirects");
            }

            uri = location;
        }
    }

    private async Task<HttpResponseMessage> SendMetadataAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        var response = await SendAsync(request, what, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await ErrorResponse.ToExceptionAsync(response, what, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        // The timeout covers the wait for response headers; a blob body then streams for as long as it takes.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeouts.Response);
        try
        {
            return await _http.SendAsync(request, completion, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            LogUpstreamFailure(_logger, what, "timeout", e);
            throw new RegistryException(RegistryFailure.Timeout, $"registry did not answer in time for {what}", e);
        }
        catch (HttpRequestException e)
        {
            LogUpstreamFailure(_logger, what, e.HttpRequestError.ToString(), e);
            // A refused certificate is a setting to fix (CaCertificateFile), not an outage: say so.
            var reason = e.HttpRequestError == HttpRequestError.SecureConnectionError ? "TLS handshake with the registry failed (certificate not trusted?)" : "registry unreachable";
            throw new RegistryException(RegistryFailure.Unavailable, $"{reason} for {what}", e);
        }
    }

    private async Task<byte[]> ReadCappedAsync(HttpResponseMessage response, int cap, string what, CancellationToken cancellationToken)
    {
        // Metadata is small: a registry that sends the headers and then stalls the body gets the same timeout.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeouts.Response);
        try
        {
            return await CappedBody.ReadAsync(response.Content, cap, what, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            LogUpstreamFailure(_logger, what, "timeout reading the body", e);
            throw new RegistryException(RegistryFailure.Timeout, $"registry did not send {what} in time", e);
        }
    }

    /// <summary>
    /// One page of a JSON listing under the registry (capped like a manifest) and the next page its <c>Link</c>
    /// header names; for a registry's own listings beside the distribution API (Azure Container Registry's
    /// <c>_tags</c>). <paramref name="authScope"/> is the token scope it needs (<see cref="Auth.RegistryAuthHandler.ScopeOption"/>).
    /// </summary>
    public async Task<(byte[] Body, Uri? Next)> GetPageAsync(Uri uri, string what, string? authScope, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (authScope is not null)
        {
            request.Options.Set(Auth.RegistryAuthHandler.ScopeOption, authScope);
        }

        using var response = await SendMetadataAsync(request, what, cancellationToken).ConfigureAwait(false);
        return (await ReadCappedAsync(response, ManifestResponse.MaxBytes, what, cancellationToken).ConfigureAwait(false), LinkHeader.Next(response, uri));
    }

    /// <summary>The registry's own URL of a blob, which this client fetches (with credentials when it has them).</summary>
    private Uri ApiBlobUri(string repository, Digest digest) => new(BaseAddress, $"v2/{repository}/blobs/{digest}");

    private static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static string? HeaderValue(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Registry request for {What} failed: {Reason}")]
    private static partial void LogUpstreamFailure(ILogger logger, string what, string reason, Exception exception);
}
