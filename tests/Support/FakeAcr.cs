using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Web;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// Azure Container Registry at the HttpMessageHandler seam, as documented: <c>GET /acr/v1/&lt;name&gt;/_tags</c>
/// (https://learn.microsoft.com/rest/api/containerregistry/tag/get-list: <c>n</c>, <c>last</c>, <c>orderby</c>,
/// a <c>Link</c> header to the next page, each tag with its digest), the distribution API's tags and manifests,
/// and ACR's Entra ID token flow (<c>/oauth2/exchange</c>, <c>/oauth2/token</c>) with its challenges:
/// <c>repository:&lt;name&gt;:metadata_read</c> for <c>_tags</c>, <c>:pull</c> for <c>/v2/</c>. Every request is counted by kind.
/// </summary>
internal sealed class FakeAcr : HttpMessageHandler
{
    public const string Host = "myacr.azurecr.io";
    public static readonly Uri Url = new($"https://{Host}");

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte[]>> _repositories = new();
    private readonly ConcurrentDictionary<string, int> _counts = new();

    /// <summary>When false, <c>_tags</c> answers 404 as a registry without ACR's API does.</summary>
    public bool TagsApi { get; set; } = true;

    /// <summary>Repositories whose <c>_tags</c> answers 403, as for a repository-scoped token without <c>metadata_read</c>.</summary>
    public ConcurrentDictionary<string, bool> RefusedTags { get; } = new(StringComparer.Ordinal);

    /// <summary>How many <c>_tags</c> answers to cut short (a truncated JSON body) before answering whole again.</summary>
    public int TruncatedTags { get; set; }

    public int this[string kind] => _counts.GetValueOrDefault(kind);

    /// <summary>Requests to the registry proper (not to its token endpoints).</summary>
    public int RegistryRequests => _counts.Where(c => !c.Key.StartsWith("token", StringComparison.Ordinal)).Sum(c => c.Value);

    public void ResetCounts() => _counts.Clear();

    /// <summary>Pushes a single-layer sysext manifest under <paramref name="tag"/>; returns the manifest's digest.</summary>
    public string Push(string repository, string tag)
    {
        var layer = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{repository}:{tag}")));
        var manifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{layer}}","size":1}]}""");
        _repositories.GetOrAdd(repository, _ => new(StringComparer.Ordinal))[tag] = manifest;
        return Digest(manifest);
    }

    private static string Digest(byte[] manifest) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(manifest));

    private void Count(string kind) => _counts.AddOrUpdate(kind, 1, (_, n) => n + 1);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var uri = request.RequestUri!;
        var path = uri.AbsolutePath;
        var query = HttpUtility.ParseQueryString(uri.Query);
        if (path == "/oauth2/exchange")
        {
            Count("token exchange");
            return Json("""{"refresh_token":"refresh"}""");
        }

        if (path == "/oauth2/token")
        {
            Count("token");
            var form = HttpUtility.ParseQueryString(await request.Content!.ReadAsStringAsync(cancellationToken));
            return Json($$"""{"access_token":"access|{{form["scope"]}}","expires_in":3600}""");
        }

        if (path.StartsWith("/acr/v1/", StringComparison.Ordinal) && path.EndsWith("/_tags", StringComparison.Ordinal))
        {
            var name = path["/acr/v1/".Length..^"/_tags".Length];
            if (Challenge(request, $"repository:{name}:metadata_read") is { } challenge)
            {
                Count("401");
                return challenge;
            }

            Count("GET _tags");
            if (RefusedTags.ContainsKey(name))
            {
                return Json("""{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}""", HttpStatusCode.Forbidden);
            }

            if (!TagsApi || !_repositories.TryGetValue(name, out var repo))
            {
                return Json("""{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}""", HttpStatusCode.NotFound);
            }

            var n = int.TryParse(query["n"], out var size) ? Math.Clamp(size, 1, 100) : 100;
            var last = query["last"];
            var page = repo.Keys.Order(StringComparer.Ordinal).Where(t => last is null || string.CompareOrdinal(t, last) > 0).Take(n + 1).ToList();
            var more = page.Count > n;
            page = page.Take(n).ToList();
            var body = JsonSerializer.Serialize(new
            {
                registry = Host,
                imageName = name,
                tags = page.Select(t => new { name = t, digest = Digest(repo[t]), createdTime = "2026-11-29T10:00:00Z", lastUpdateTime = "2026-11-29T10:00:00Z", signed = false }),
            });
            if (TruncatedTags > 0)
            {
                TruncatedTags--;
                body = body[..(body.Length / 2)];
            }

            var response = Json(body);
            if (more)
            {
                response.Headers.TryAddWithoutValidation("Link", $"</acr/v1/{name}/_tags?last={page[^1]}&n={n}&orderby=>; rel=\"next\"");
            }

            return response;
        }

        if (path.StartsWith("/v2/", StringComparison.Ordinal))
        {
            var (name, kind, reference) = path.Contains("/tags/list", StringComparison.Ordinal)
                ? (path["/v2/".Length..path.IndexOf("/tags/list", StringComparison.Ordinal)], "tags", "")
                : (path["/v2/".Length..path.LastIndexOf("/manifests/", StringComparison.Ordinal)], "manifest", path[(path.LastIndexOf('/') + 1)..]);
            if (Challenge(request, $"repository:{name}:pull") is { } challenge)
            {
                Count("401");
                return challenge;
            }

            Count($"{request.Method} {kind}{(reference.StartsWith("sha256:", StringComparison.Ordinal) ? " by digest" : "")}");
            if (!_repositories.TryGetValue(name, out var repo))
            {
                return Json("""{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}""", HttpStatusCode.NotFound);
            }

            if (kind == "tags")
            {
                return Json(JsonSerializer.Serialize(new { name, tags = repo.Keys.Order(StringComparer.Ordinal) }));
            }

            var manifest = repo.Values.FirstOrDefault(m => Digest(m) == reference) ?? repo.GetValueOrDefault(reference);
            if (manifest is null)
            {
                return Json("""{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}""", HttpStatusCode.NotFound);
            }

            var found = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(request.Method == HttpMethod.Head ? [] : manifest) };
            found.Content.Headers.ContentType = new("application/vnd.oci.image.manifest.v1+json");
            found.Headers.TryAddWithoutValidation("Docker-Content-Digest", Digest(manifest));
            return found;
        }

        throw new InvalidOperationException($"FakeAcr has no route for {request.Method} {uri}");
    }

    /// <summary>ACR's 401 unless the request carries a token for <paramref name="scope"/>.</summary>
    private static HttpResponseMessage? Challenge(HttpRequestMessage request, string scope)
    {
        if (request.Headers.Authorization is { Scheme: "Bearer" } auth && auth.Parameter == $"access|{scope}")
        {
            return null;
        }

        var challenge = Json("""{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}""", HttpStatusCode.Unauthorized);
        challenge.Headers.WwwAuthenticate.ParseAdd($"Bearer realm=\"https://{Host}/oauth2/token\",service=\"{Host}\",scope=\"{scope}\"");
        return challenge;
    }

    private static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
}
