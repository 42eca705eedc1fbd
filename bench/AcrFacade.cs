using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SysextFunctions.Bench;

/// <summary>
/// The real registry with Azure Container Registry's tag listing in front, and a count of every request it gets:
/// <c>GET /acr/v1/&lt;name&gt;/_tags?n=&amp;last=</c> as documented (each tag with its digest, 100 to a page, a
/// <c>Link</c> to the next), everything else forwarded to the registry unchanged. It learns a tag's digest with a
/// HEAD of its own the first time it lists the tag (not counted: tags in the bench never move).
/// </summary>
internal sealed partial class AcrFacade : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _counts = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, string>> _digests = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false });
    private readonly Uri _registry;

    private AcrFacade(Uri registry)
    {
        _registry = registry;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    public Uri Url { get; private set; } = null!;

    /// <summary>Requests since the last <see cref="Reset"/>, all kinds.</summary>
    public int Total => _counts.Values.Sum();

    public string Describe() => string.Join(", ", _counts.OrderBy(c => c.Key).Select(c => $"{c.Value} {c.Key}"));

    public void Reset() => _counts.Clear();

    public static async Task<AcrFacade> StartAsync(Uri registry)
    {
        var facade = new AcrFacade(registry);
        await facade._app.StartAsync();
        facade.Url = new Uri(facade._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        return facade;
    }

    /// <summary>Learns the digests of every tag of <paramref name="repository"/> now, so that timed listings do not pay for it.</summary>
    public Task PrimeAsync(string repository) => DigestsAsync(repository);

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var acr = TagsPath().Match(path);
        var kind = acr.Success ? "GET _tags"
            : path.Contains("/tags/list", StringComparison.Ordinal) ? "GET tags/list"
            : path.Contains("/manifests/sha256:", StringComparison.Ordinal) ? $"{context.Request.Method} manifest by digest"
            : path.Contains("/manifests/", StringComparison.Ordinal) ? $"{context.Request.Method} manifest by tag"
            : $"{context.Request.Method} other";
        _counts.AddOrUpdate(kind, 1, (_, n) => n + 1);
        if (kind == "GET _tags")
        {
            await TagsAsync(context, acr.Groups["name"].Value);
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(_registry, path + context.Request.QueryString));
        foreach (var accept in context.Request.Headers.Accept)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    private async Task TagsAsync(HttpContext context, string repository)
    {
        var digests = context.Request.Query["last"].Count == 0 ? await DigestsAsync(repository) : _digests.GetValueOrDefault(repository);
        if (digests is null)
        {
            context.Response.StatusCode = 404;
            return;
        }

        var n = int.TryParse(context.Request.Query["n"], out var size) ? Math.Clamp(size, 1, 100) : 100;
        var last = context.Request.Query["last"].FirstOrDefault();
        var page = digests.Keys.Order(StringComparer.Ordinal).Where(t => last is null || string.CompareOrdinal(t, last) > 0).Take(n + 1).ToList();
        if (page.Count > n)
        {
            page.RemoveAt(n);
            context.Response.Headers.Link = $"</acr/v1/{repository}/_tags?last={page[^1]}&n={n}&orderby=>; rel=\"next\"";
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            registry = context.Request.Host.Value,
            imageName = repository,
            tags = page.Select(t => new { name = t, digest = digests[t], createdTime = "2026-11-29T00:00:00Z", lastUpdateTime = "2026-11-29T00:00:00Z", signed = false }),
        }));
    }

    private async Task<ConcurrentDictionary<string, string>?> DigestsAsync(string repository)
    {
        using var response = await _http.GetAsync(new Uri(_registry, $"/v2/{repository}/tags/list"));
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        using var list = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        var digests = _digests.GetOrAdd(repository, _ => new(StringComparer.Ordinal));
        var unknown = list.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).Where(t => !digests.ContainsKey(t)).ToList();
        await Parallel.ForEachAsync(unknown, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (tag, ct) =>
        {
            using var head = new HttpRequestMessage(HttpMethod.Head, new Uri(_registry, $"/v2/{repository}/manifests/{tag}"));
            head.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(Registry.Oci.MediaTypes.OciManifest));
            using var answer = await _http.SendAsync(head, ct);
            answer.EnsureSuccessStatusCode();
            digests[tag] = answer.Headers.GetValues("Docker-Content-Digest").First();
        });
        return digests;
    }

    [GeneratedRegex("^/acr/v1/(?<name>.+)/_tags$")]
    private static partial Regex TagsPath();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
    }
}
