using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// A faithful HTTP relay on real Kestrel at 127.0.0.1 in front of a registry that counts the body bytes it passes
/// on per request and tells how each one ended: completed, or cut off by its client (our proxy) going away.
/// </summary>
internal sealed class CountingRelay : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer", "Host",
    };

    private readonly Uri _upstream;
    private readonly WebApplication _app;
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly ConcurrentQueue<Relayed> _relayed = new();

    private CountingRelay(Uri upstream)
    {
        _upstream = upstream;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    public Uri Url => new(_app.Urls.First());

    public IReadOnlyCollection<Relayed> Requests => _relayed;

    public static async Task<CountingRelay> StartAsync(Uri upstream)
    {
        var relay = new CountingRelay(upstream);
        await relay._app.StartAsync();
        return relay;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var relayed = new Relayed(context.Request.Method, context.Request.Path + context.Request.QueryString);
        _relayed.Enqueue(relayed);
        var aborted = context.RequestAborted;
        try
        {
            using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(_upstream, relayed.Target));
            foreach (var (name, values) in context.Request.Headers)
            {
                if (!HopByHop.Contains(name))
                {
                    request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
                }
            }

            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, aborted);
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!HopByHop.Contains(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            await using var body = await response.Content.ReadAsStreamAsync(aborted);
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await body.ReadAsync(buffer, aborted)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), aborted);
                Interlocked.Add(ref relayed.BytesField, read);
            }

            relayed.End(abandoned: false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            relayed.End(abandoned: true);
        }
    }

    internal sealed class Relayed(string method, string target)
    {
        private readonly TaskCompletionSource<bool> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal long BytesField;

        public string Method { get; } = method;

        public string Target { get; } = target;

        public long Bytes => Interlocked.Read(ref BytesField);

        /// <summary>Completes when the request ends: true if its client went away before the whole body was sent.</summary>
        public Task<bool> Abandoned => _ended.Task;

        internal void End(bool abandoned) => _ended.TrySetResult(abandoned);
    }
}
