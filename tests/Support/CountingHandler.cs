using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace SysextFunctions.Tests.Support;

/// <summary>What the proxy asked the registry, by kind: <c>GET tags</c>, <c>HEAD manifest</c>, <c>GET manifest</c>, <c>GET blob</c>.</summary>
internal sealed class RequestCounts
{
    private readonly ConcurrentDictionary<string, int> _counts = new();

    public int this[string kind] => _counts.GetValueOrDefault(kind);

    public void Add(HttpRequestMessage request)
    {
        var path = request.RequestUri!.AbsolutePath;
        var kind = path.Contains("/tags/list", StringComparison.Ordinal) ? "tags"
            : path.Contains("/manifests/sha256:", StringComparison.Ordinal) ? "manifest by digest"
            : path.Contains("/manifests/", StringComparison.Ordinal) ? "manifest"
            : path.Contains("/blobs/", StringComparison.Ordinal) ? "blob"
            : "other";
        _counts.AddOrUpdate($"{request.Method} {kind}", 1, (_, n) => n + 1);
    }

    /// <summary>Puts a counter in front of the proxy's registry client (the HttpMessageHandler seam).</summary>
    public Action<WebApplicationBuilder> Install() => builder => builder.Services
        .AddHttpClient(SysextFunctions.Upstreams.UpstreamOptions.ClientName(SysextFunctions.Upstreams.UpstreamOptions.DefaultId))
        .AddHttpMessageHandler(() => new CountingHandler(this));

    public override string ToString() => string.Join(", ", _counts.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}"));

    private sealed class CountingHandler(RequestCounts counts) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            counts.Add(request);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
