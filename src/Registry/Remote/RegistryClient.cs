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

    /// <summary>The <c>n</c> a tag list is asked for with: what Docker Hub and ACR allow at most.</summary>
    public const int TagPageSize = 100;

    private const int MaxRedirects = 5;
    private const int MaxTagPages = 10_000;

    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly UpstreamTimeouts _timeouts;
    private readonly TimeProvider _time;

    public RegistryClient(HttpClient http, Uri baseAddress, UpstreamTimeouts timeouts, TimeProvider time, ILogger<RegistryClient> logger)
    {
        if (!baseAddress.IsAbsoluteUri || baseAddress.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"registry URL '{baseAddress}' must be an absolute http or https URL", nameof(baseAddress));
        }

        _http = http;
        BaseAddress = Origin.AsBase(baseAddress);
        _timeouts = timeouts;
        _time = time;
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

    /// <summary>
    /// Every tag of a repository, page by page (<see cref="ReadPagesAsync"/>): by <c>Link</c>, else by <c>last=</c>
    /// after a full page. A registry that repeats a page or goes back ends the listing with what it sent, logged.
    /// </summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken = default)
    {
        var what = $"tag list of '{repository}'";
        var listed = await ReadPagesAsync(
            new PagedListing<string>(
                what,
                new Uri(BaseAddress, $"v2/{repository}/tags/list?n={TagPageSize}"),
                TagPageSize,
                ManifestResponse.MaxBytes,
                body => ParseJson(body, OciJsonContext.Default.TagList, what)?.Tags?.Where(tag => tag is not null) ?? [],
                tag => tag,
                last => new Uri(BaseAddress, $"v2/{repository}/tags/list?n={TagPageSize}&last={Uri.EscapeDataString(last)}"),
                MaxPages: MaxTagPages),
            cancellationToken).ConfigureAwait(false);
        return listed.End == PagingEnd.Truncated
            ? throw new RegistryException(RegistryFailure.InvalidResponse, $"{what} has more than {MaxTagPages} pages")
            : listed.Items;
    }

    /// <summary>A listing page's JSON; registries answer null, not [], for a repository whose tags were all deleted.</summary>
    public static T? ParseJson<T>(byte[] body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(body, type);
        }
        catch (JsonException e)
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, $"{what} is not valid JSON", e);
        }
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
    public Task<BlobResponse> GetBlobAsync(string repository, Digest digest, bool followRedirects, CancellationToken cancellationToken = default) =>
        GetBlobAsync(repository, digest, followRedirects, from: null, cancellationToken);

    /// <param name="from">Asks for the bytes from this offset on (<c>Range: bytes=&lt;from&gt;-</c>); the answer's
    /// <see cref="BlobResponse.Offset"/> says whether the registry honoured it.</param>
    private async Task<BlobResponse> GetBlobAsync(string repository, Digest digest, bool followRedirects, long? from, CancellationToken cancellationToken)
    {
        var uri = ApiBlobUri(repository, digest);
        var what = from is null ? $"blob '{repository}@{digest}'" : $"blob '{repository}@{digest}' from byte {from}";
        for (var hop = 0; ; hop++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Options.Set(BlobRequest, true);
            if (from is { } first)
            {
                request.Headers.Range = new RangeHeaderValue(first, null);
            }

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
                    // 206 only for the range asked for; a registry (or storage) without ranges answers 200 with all of it.
                    var offset = 0L;
                    if (response.StatusCode == HttpStatusCode.PartialContent)
                    {
                        if (from is null || response.Content.Headers.ContentRange is not { From: { } start } || start != from)
                        {
                            throw new RegistryException(RegistryFailure.InvalidResponse, $"{what}: the registry sent another range");
                        }

                        offset = start;
                    }

                    var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    // Docker-Content-Digest is optional on blob responses; when present it must name what we asked for.
                    Digest? labelled = Digest.TryParse(HeaderValue(response, "Docker-Content-Digest"), out var announced) ? announced : null;
                    var length = response.Content.Headers.ContentLength is { } remaining ? remaining + offset : (long?)null;
                    return BlobResponse.FromStream(
                        stream,
                        length,
                        response,
                        labelled,
                        _timeouts.Idle,
                        offset,
                        // From the registry's URL again, authenticated afresh: a storage URL it redirected to may have expired.
                        (resumeFrom, ct) => GetBlobAsync(repository, digest, followRedirects: true, resumeFrom, ct));
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
            if (location.Scheme is not ("http" or "https"))
            {
                // Neither followed nor passed on: a client would be sent to file:, javascript: or ftp: in our name.
                // Only the scheme is named, the rest of the URL is the registry's and may carry anything.
                throw new RegistryException(RegistryFailure.InvalidResponse, $"{what}: redirect to a {location.Scheme}: URL refused");
            }

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
        using var timeout = new CancellationTokenSource(_timeouts.Response, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await _http.SendAsync(request, completion, linked.Token).ConfigureAwait(false);
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
        using var timeout = new CancellationTokenSource(_timeouts.Response, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await CappedBody.ReadAsync(response.Content, cap, what, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            LogUpstreamFailure(_logger, what, "timeout reading the body", e);
            throw new RegistryException(RegistryFailure.Timeout, $"registry did not send {what} in time", e);
        }
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
