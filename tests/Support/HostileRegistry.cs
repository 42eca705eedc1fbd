using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// A fake registry on real Kestrel at 127.0.0.1 that answers what a row of a hostile-registry table wants: a route
/// table from a request path (with its query) to a handler, everything else 404 with an OCI error body. Every
/// request is recorded, so that a row can assert what was and what was never asked for. Helpers build a well-formed
/// single-layer sysext for the parts a row does not make hostile.
/// </summary>
internal sealed class HostileRegistry : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, RequestDelegate> _routes = new(StringComparer.Ordinal);

    private HostileRegistry()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    public Uri Url => new(_app.Urls.First());

    /// <summary>Each request as <c>METHOD path?query</c>, in order (unless <see cref="Record"/> is off).</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Whether <see cref="Requests"/> records; a soak of a hundred thousand requests counts its own.</summary>
    public bool Record { get; set; } = true;

    /// <summary>What answers a request no route matches, instead of the 404 (a route table cannot name every path of a soak).</summary>
    public RequestDelegate? Otherwise { get; set; }

    public static async Task<HostileRegistry> StartAsync()
    {
        var registry = new HostileRegistry();
        await registry._app.StartAsync();
        return registry;
    }

    public HostileRegistry On(string pathAndQuery, RequestDelegate handler)
    {
        _routes[pathAndQuery] = handler;
        return this;
    }

    public HostileRegistry OnJson(string pathAndQuery, string json, string contentType = "application/json") =>
        On(pathAndQuery, context => Send(context, 200, contentType, Encoding.UTF8.GetBytes(json)));

    /// <summary>
    /// Serves <paramref name="tag"/> of <paramref name="repository"/> as a one-layer sysext whose layer is
    /// <paramref name="content"/>; returns the layer's digest, or with <paramref name="config"/> the config's.
    /// </summary>
    public string Push(string repository, string tag, byte[] content, byte[]? config = null)
    {
        var layer = Sha256(content);
        var configDigestOnly = config is not null;
        config ??= """{"architecture":"amd64","os":"linux"}"""u8.ToArray();
        var manifest = Encoding.UTF8.GetBytes(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," +
            $"\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{Sha256(config)}\",\"size\":{config.Length}}}," +
            $"\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"{layer}\",\"size\":{content.Length}," +
            $"\"annotations\":{{\"org.opencontainers.image.title\":\"{repository[(repository.LastIndexOf('/') + 1)..]}-{tag}.raw\"}}}}]}}");
        var digest = Sha256(manifest);
        foreach (var reference in (string[])[tag, digest])
        {
            On($"/v2/{repository}/manifests/{reference}", context =>
            {
                context.Response.Headers["Docker-Content-Digest"] = digest;
                return Send(context, 200, "application/vnd.oci.image.manifest.v1+json", manifest);
            });
        }

        On($"/v2/{repository}/blobs/{layer}", context => Send(context, 200, "application/octet-stream", content));
        On($"/v2/{repository}/blobs/{Sha256(config)}", context => Send(context, 200, "application/vnd.oci.image.config.v1+json", config));
        return configDigestOnly ? Sha256(config) : layer;
    }

    /// <summary>How many requests asked for exactly this path (and query).</summary>
    public int Count(string method, string pathAndQuery) => Requests.Count(r => r == $"{method} {pathAndQuery}");

    public static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static async Task Send(HttpContext context, int status, string contentType, byte[] body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private Task HandleAsync(HttpContext context)
    {
        var target = context.Request.Path + context.Request.QueryString;
        if (Record)
        {
            Requests.Enqueue($"{context.Request.Method} {target}");
        }

        // A route given with a query answers only that query; one given as a bare path answers any (a listing's ?n=).
        if (_routes.TryGetValue(target.ToString(), out var handler) || _routes.TryGetValue(context.Request.Path.ToString(), out handler))
        {
            return handler(context);
        }

        if (Otherwise is { } otherwise)
        {
            return otherwise(context);
        }

        if (target == "/v2/")
        {
            return Send(context, 200, "application/json", "{}"u8.ToArray());
        }

        return Send(context, 404, "application/json", """{"errors":[{"code":"NOT_FOUND","message":"not here"}]}"""u8.ToArray());
    }
}
