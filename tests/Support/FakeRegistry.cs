using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Web;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// A distribution registry at the HttpMessageHandler seam, for tests that count requests or need behaviours a real
/// registry will not show on demand: tag lists paged by <c>n</c>/<c>last</c> with or without a <c>Link</c> header
/// (<see cref="SendsLink"/>), <c>_catalog</c> likewise, manifests, blobs with <c>Range</c>, the referrers API (404 unless
/// <see cref="ReferrersApi"/>), and <see cref="Intercept"/> to answer any request otherwise. Every request is
/// counted by kind (<c>GET tags</c>, <c>GET manifest</c>, <c>HEAD manifest</c>, <c>GET referrers</c>, <c>GET blob</c>, …).
/// </summary>
internal sealed class FakeRegistry : HttpMessageHandler
{
    public static readonly Uri Url = new("http://registry.test/");

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte[]>> _tags = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _content = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>Whether a paged list names its next page in a <c>Link</c> header; a registry may honour <c>n</c> without.</summary>
    public bool SendsLink { get; set; } = true;

    /// <summary>Whether paged lists ignore <c>last</c> and start again from the beginning.</summary>
    public bool IgnoresLast { get; set; }

    /// <summary>Whether paged lists ignore <c>n</c> and answer everything at once, as Debian's registry 2.8 does for tags.</summary>
    public bool IgnoresN { get; set; }

    /// <summary>Whether paged lists come in a different random order on every request (some registries' <c>_catalog</c>).</summary>
    public bool Shuffles { get; set; }

    /// <summary>The page size when the client names none.</summary>
    public int DefaultPageSize { get; set; } = 1000;

    public bool ReferrersApi { get; set; }

    /// <summary>Answers a request before the registry does, when it returns a response.</summary>
    public Func<HttpRequestMessage, HttpResponseMessage?>? Intercept { get; set; }

    public ConcurrentQueue<HttpRequestMessage> Requests { get; } = new();

    public int this[string kind] => _counts.GetValueOrDefault(kind);

    public void ResetCounts() => _counts.Clear();

    /// <summary>Pushes a single-layer sysext whose layer is <paramref name="layer"/>; returns the manifest's digest.</summary>
    public string Push(string repository, string tag, byte[]? layer = null)
    {
        layer ??= Encoding.UTF8.GetBytes($"{repository}:{tag}");
        var layerDigest = AddBlob(layer);
        var manifest = Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{{layerDigest}}}","size":{{{layer.Length}}},"annotations":{"org.opencontainers.image.title":"{{{tag}}}.raw"}}]}""");
        return Tag(repository, tag, manifest);
    }

    /// <summary>Puts <paramref name="manifest"/> under <paramref name="tag"/>; returns its digest.</summary>
    public string Tag(string repository, string tag, byte[] manifest)
    {
        _tags.GetOrAdd(repository, _ => new(StringComparer.Ordinal))[tag] = manifest;
        return AddBlob(manifest);
    }

    /// <summary>An empty repository (listed by <c>_catalog</c>, no tags).</summary>
    public void Create(string repository) => _tags.GetOrAdd(repository, _ => new(StringComparer.Ordinal));

    public string AddBlob(byte[] content)
    {
        var digest = Sha256(content);
        _content[digest] = content;
        return digest;
    }

    public static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    private void Count(string kind) => _counts.AddOrUpdate(kind, 1, (_, n) => n + 1);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        await Task.Yield();
        Requests.Enqueue(request);
        var path = request.RequestUri!.AbsolutePath;
        var query = HttpUtility.ParseQueryString(request.RequestUri.Query);
        var kind = path == "/v2/_catalog" ? "catalog"
            : path.Contains("/tags/list", StringComparison.Ordinal) ? "tags"
            : path.Contains("/referrers/", StringComparison.Ordinal) ? "referrers"
            : path.Contains("/manifests/", StringComparison.Ordinal) ? "manifest"
            : path.Contains("/blobs/", StringComparison.Ordinal) ? "blob"
            : "other";
        Count($"{request.Method} {kind}");
        if (Intercept?.Invoke(request) is { } intercepted)
        {
            intercepted.RequestMessage = request;
            return intercepted;
        }

        switch (kind)
        {
            case "catalog":
                return Page("repositories", _tags.Keys.Order(StringComparer.Ordinal).ToList(), query, "/v2/_catalog?");
            case "tags":
                var name = path["/v2/".Length..path.IndexOf("/tags/list", StringComparison.Ordinal)];
                return _tags.TryGetValue(name, out var repository)
                    ? Page("tags", repository.Keys.Order(StringComparer.Ordinal).ToList(), query, $"/v2/{name}/tags/list?", name)
                    : Error(HttpStatusCode.NotFound, "NAME_UNKNOWN");
            case "referrers":
                if (!ReferrersApi)
                {
                    return Error(HttpStatusCode.NotFound, "NOT_FOUND");
                }

                var index = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}""") };
                index.Content.Headers.ContentType = new("application/vnd.oci.image.index.v1+json");
                return index;
            case "manifest":
                var at = path.LastIndexOf("/manifests/", StringComparison.Ordinal);
                var reference = path[(at + "/manifests/".Length)..];
                var manifest = _tags.GetValueOrDefault(path["/v2/".Length..at])?.GetValueOrDefault(reference)
                    ?? (reference.StartsWith("sha256:", StringComparison.Ordinal) ? _content.GetValueOrDefault(reference) : null);
                if (manifest is null)
                {
                    return Error(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
                }

                var found = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(request.Method == HttpMethod.Head ? [] : manifest) };
                found.Content.Headers.ContentType = new(JsonDocument.Parse(manifest).RootElement.GetProperty("mediaType").GetString()!);
                found.Headers.TryAddWithoutValidation("Docker-Content-Digest", Sha256(manifest));
                return found;
            case "blob":
                var digest = path[(path.LastIndexOf('/') + 1)..];
                if (!_content.TryGetValue(digest, out var blob))
                {
                    return Error(HttpStatusCode.NotFound, "BLOB_UNKNOWN");
                }

                if (request.Headers.Range?.Ranges.SingleOrDefault() is { From: { } from } range)
                {
                    var to = Math.Min(range.To ?? blob.Length - 1, blob.Length - 1);
                    var partial = new HttpResponseMessage(HttpStatusCode.PartialContent) { Content = new ByteArrayContent(blob[(int)from..(int)(to + 1)]) };
                    partial.Content.Headers.ContentRange = new ContentRangeHeaderValue(from, to, blob.Length);
                    return partial;
                }

                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(blob) };
            default:
                throw new InvalidOperationException($"FakeRegistry has no route for {request.Method} {request.RequestUri}");
        }
    }

    /// <summary>One page of a sorted list after <c>last</c>, at most <c>n</c> long, with a Link to the next when <see cref="SendsLink"/>.</summary>
    private HttpResponseMessage Page(string field, List<string> all, System.Collections.Specialized.NameValueCollection query, string path, string? name = null)
    {
        var n = IgnoresN ? int.MaxValue : int.TryParse(query["n"], out var size) && size > 0 ? size : DefaultPageSize;
        var last = IgnoresLast ? null : query["last"];
        var after = all.Where(t => last is null || string.CompareOrdinal(t, last) > 0).ToList();
        if (Shuffles)
        {
            after = [.. after.OrderBy(_ => Random.Shared.Next())];
        }

        var page = after.Take(n).ToList();
        var body = name is null
            ? JsonSerializer.Serialize(new Dictionary<string, object> { [field] = page })
            : JsonSerializer.Serialize(new Dictionary<string, object> { ["name"] = name, [field] = page });
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (SendsLink && after.Count > page.Count)
        {
            response.Headers.TryAddWithoutValidation("Link", $"<{path}n={n}&last={Uri.EscapeDataString(page[^1])}>; rel=\"next\"");
        }

        return response;
    }

    public static HttpResponseMessage Error(HttpStatusCode status, string code) =>
        new(status) { Content = new StringContent($$"""{"errors":[{"code":"{{code}}","message":"fake"}]}""", Encoding.UTF8, "application/json") };
}
