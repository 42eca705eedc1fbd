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
/// A forwarder in front of the registry that holds each request for a fixed time before passing it on: a
/// registry across a network, where a round trip costs milliseconds rather than the CPU of a shared machine.
/// Metadata only (tags and manifests); both sides of a comparison go through it.
/// </summary>
internal sealed class Latency : IAsyncDisposable
{
    private readonly WebApplication _app;

    private Latency(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<Latency> StartAsync(Uri registry, TimeSpan delay)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        app.Run(async context =>
        {
            await Task.Delay(delay);
            using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(registry, context.Request.Path + context.Request.QueryString));
            foreach (var accept in context.Request.Headers.Accept)
            {
                request.Headers.TryAddWithoutValidation("Accept", accept);
            }

            using var response = await http.SendAsync(request, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new Latency(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
