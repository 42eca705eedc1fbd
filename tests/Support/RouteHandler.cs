using System.Collections.Concurrent;
using System.Net;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// A fake at the <see cref="HttpMessageHandler"/> seam: a route table from "METHOD absolute-uri" to a response,
/// recording every request. An unrouted request fails the test with the URI it asked for.
/// </summary>
internal sealed class RouteHandler : HttpMessageHandler
{
    private readonly ConcurrentDictionary<string, Func<HttpRequestMessage, Task<HttpResponseMessage>>> _routes = new(StringComparer.Ordinal);

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public RouteHandler On(HttpMethod method, string uri, Func<HttpRequestMessage, HttpResponseMessage> respond) =>
        On(method, uri, request => Task.FromResult(respond(request)));

    public RouteHandler On(HttpMethod method, string uri, Func<HttpRequestMessage, Task<HttpResponseMessage>> respond)
    {
        _routes[$"{method} {new Uri(uri).AbsoluteUri}"] = respond;
        return this;
    }

    public int Count(string pathAndQueryPrefix) => Requests.Count(r => r.Uri.PathAndQuery.StartsWith(pathAndQueryPrefix, StringComparison.Ordinal));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Enqueue(new RecordedRequest(request.Method, request.RequestUri!, request.Headers.Authorization?.ToString(), body));
        if (!_routes.TryGetValue($"{request.Method} {request.RequestUri!.AbsoluteUri}", out var respond))
        {
            throw new InvalidOperationException($"no route for {request.Method} {request.RequestUri}");
        }

        var response = await respond(request);
        response.RequestMessage = request;
        return response;
    }

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
}

internal sealed record RecordedRequest(HttpMethod Method, Uri Uri, string? Authorization, string? Body);
