using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SysextFunctions.Tests.Support;

/// <summary>What <see cref="FaultProxy"/> does to the requests it applies to.</summary>
public enum Fault
{
    /// <summary>Forward faithfully.</summary>
    None,

    /// <summary>Accept, then never answer.</summary>
    Stall,

    /// <summary>Accept, then reset the connection without an answer.</summary>
    Reset,

    Status500,
    Status503,

    /// <summary>429 with <c>Retry-After: 7</c>.</summary>
    Status429,

    /// <summary>200, application/json, a body that is not JSON.</summary>
    MalformedJson,

    /// <summary>200 with a manifest media type and a 5 MiB body.</summary>
    OversizedManifest,

    /// <summary>The upstream's headers (with its Content-Length), half the body, then a reset.</summary>
    CutShort,

    /// <summary>The upstream's headers and all the bytes, one of them flipped.</summary>
    FlipByte,

    /// <summary>The upstream's answer, faithfully but slowly: <see cref="FaultProxy.Trickle"/> at a time.</summary>
    Slow,

    /// <summary>The upstream's headers and half the body, then nothing, connection open.</summary>
    StallBody,
}

/// <summary>
/// A fault-injecting HTTP relay on real Kestrel at 127.0.0.1, between a client and a real server (the registry,
/// or our proxy). Counts every request it receives, can stop listening (connections refused) and start again on
/// the same port.
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer", "Host",
    };

    private readonly Uri _upstream;
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly ConcurrentQueue<string> _paths = new();
    private readonly ConcurrentQueue<string> _ranges = new();
    private WebApplication? _app;
    private int _pauses;

    private FaultProxy(Uri upstream, int port)
    {
        _upstream = upstream;
        Port = port;
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}");

    public Fault Fault { get; set; }

    /// <summary>When set, the fault applies to this many more matching requests only, then the relay is faithful.</summary>
    public int? Times { get; set; }

    /// <summary>Which request targets (path and query) the fault applies to; all by default.</summary>
    public Func<string, bool> Applies { get; set; } = _ => true;

    /// <summary>How <see cref="Fault.Slow"/> sends a body: at most this many bytes, then this pause.</summary>
    public (int Bytes, TimeSpan Pause) Trickle { get; set; } = (64 * 1024, TimeSpan.FromMilliseconds(100));

    /// <summary>What requests with a <c>Range</c> header (a resumed blob) get instead of <see cref="Fault"/>, when set.</summary>
    public Fault? RangeFault { get; set; }

    /// <summary>When set, <see cref="RangeFault"/> applies to this many more ranged requests only.</summary>
    public int? RangeTimes { get; set; }

    /// <summary>Drops <c>Range</c> from forwarded requests: a registry (or storage) without range support.</summary>
    public bool IgnoresRange { get; set; }

    /// <summary>The <c>Range</c> header of every request received, in order (empty without one).</summary>
    public IReadOnlyCollection<string> Ranges => _ranges;

    /// <summary>Rewrites whole bodies of applicable, otherwise faithful answers (e.g. to tamper with a list).</summary>
    public Func<byte[], byte[]>? Rewrite { get; set; }

    /// <summary>Headers set on (or, with a null value, removed from) forwarded answers to applicable requests.</summary>
    public Dictionary<string, string?> SetHeaders { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How many pauses <see cref="Fault.Slow"/> has made, in all.</summary>
    public int Pauses => _pauses;

    /// <summary>The targets of every request received, in order.</summary>
    public IReadOnlyCollection<string> Requests => _paths;

    public static async Task<FaultProxy> StartAsync(Uri upstream)
    {
        var proxy = new FaultProxy(upstream, FreePort.Next());
        await proxy.ListenAsync();
        return proxy;
    }

    /// <summary>Stops listening: connections to <see cref="Url"/> are refused until <see cref="ListenAsync"/>.</summary>
    public async Task RefuseAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async Task ListenAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(Url.AbsoluteUri).ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync();
        _app = app;
    }

    public async ValueTask DisposeAsync()
    {
        await RefuseAsync();
        _http.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var target = context.Request.Path.ToUriComponent() + context.Request.QueryString.ToUriComponent();
        _paths.Enqueue(target);
        var ranged = context.Request.Headers.Range.Count > 0;
        _ranges.Enqueue(context.Request.Headers.Range.ToString());
        var fault = Applies(target) ? (ranged && RangeFault is { } rangeFault ? rangeFault : Fault) : Fault.None;
        if (fault != Fault.None)
        {
            lock (_paths)
            {
                if (ranged && RangeFault is not null && RangeTimes is { } rangeTimes)
                {
                    fault = rangeTimes > 0 ? fault : Fault.None;
                    RangeTimes = Math.Max(0, rangeTimes - 1);
                }
                else if (Times is { } times)
                {
                    fault = times > 0 ? fault : Fault.None;
                    Times = Math.Max(0, times - 1);
                }
            }
        }

        var aborted = context.RequestAborted;
        switch (fault)
        {
            case Fault.Stall:
                // simulates a slow peer: a registry that never answers, until the client gives up
                await Task.Delay(Timeout.Infinite, aborted).ContinueWith(_ => { }, TaskScheduler.Default);
                return;
            case Fault.Reset:
                context.Abort();
                return;
            case Fault.Status500 or Fault.Status503 or Fault.Status429:
                context.Response.StatusCode = fault switch { Fault.Status500 => 500, Fault.Status503 => 503, _ => 429 };
                if (fault == Fault.Status429)
                {
                    context.Response.Headers.RetryAfter = "7";
                }

                await context.Response.WriteAsync("{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"injected\"}]}", aborted);
                return;
            case Fault.MalformedJson:
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"tags\": [\"v1\", ", aborted);
                return;
            case Fault.OversizedManifest:
                context.Response.ContentType = "application/vnd.oci.image.manifest.v1+json";
                var big = new byte[5 * 1024 * 1024];
                Array.Fill(big, (byte)' ');
                context.Response.ContentLength = big.Length;
                await context.Response.Body.WriteAsync(big, aborted);
                return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(_upstream, target));
        foreach (var (name, values) in context.Request.Headers)
        {
            if (IgnoresRange && name.Equals("Range", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!HopByHop.Contains(name) && !request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content ??= new StreamContent(context.Request.Body);
                request.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, aborted);
        }
        catch (HttpRequestException)
        {
            context.Response.StatusCode = 502;
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!HopByHop.Contains(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            if (Applies(target))
            {
                foreach (var (name, value) in SetHeaders)
                {
                    context.Response.Headers.Remove(name);
                    if (value is not null)
                    {
                        context.Response.Headers[name] = value;
                    }
                }
            }

            await using var body = await response.Content.ReadAsStreamAsync(aborted);
            if (fault == Fault.None && Rewrite is { } rewrite && Applies(target))
            {
                using var buffer = new MemoryStream();
                await body.CopyToAsync(buffer, aborted);
                var rewritten = rewrite(buffer.ToArray());
                context.Response.ContentLength = rewritten.Length;
                await context.Response.Body.WriteAsync(rewritten, aborted);
                return;
            }

            if (fault is Fault.CutShort or Fault.FlipByte or Fault.Slow or Fault.StallBody && response.Content.Headers.ContentLength is { } length && length > 1)
            {
                await CopyFaultyAsync(context, body, length, fault, aborted);
                return;
            }

            await body.CopyToAsync(context.Response.Body, aborted);
        }
    }

    private async Task CopyFaultyAsync(HttpContext context, Stream body, long length, Fault fault, CancellationToken cancellationToken)
    {
        var stopAt = fault is Fault.CutShort or Fault.StallBody ? length / 2 : length;
        var flipAt = length / 2;
        var trickle = Trickle;
        var buffer = new byte[fault == Fault.Slow ? trickle.Bytes : 64 * 1024];
        long position = 0;
        int read;
        while (position < stopAt && (read = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, stopAt - position)), cancellationToken)) > 0)
        {
            if (fault == Fault.FlipByte && flipAt >= position && flipAt < position + read)
            {
                buffer[flipAt - position] ^= 0xFF;
            }

            await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            position += read;
            if (fault == Fault.Slow)
            {
                await context.Response.Body.FlushAsync(cancellationToken);
                Interlocked.Increment(ref _pauses);
                // simulates a slow peer: the registry trickles the body
                await Task.Delay(trickle.Pause, cancellationToken);
            }
        }

        if (fault == Fault.CutShort)
        {
            await context.Response.Body.FlushAsync(cancellationToken);
            context.Abort();
        }
        else if (fault == Fault.StallBody)
        {
            await context.Response.Body.FlushAsync(cancellationToken);
            // simulates a slow peer: the body stops mid-way and the connection stays open, until the client gives up
            await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
