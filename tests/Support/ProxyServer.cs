using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using SysextFunctions.Hosting;

namespace SysextFunctions.Tests.Support;

/// <summary>The standalone host on real Kestrel, bound to a free loopback port.</summary>
internal sealed class ProxyServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ProxyServer(WebApplication app, Uri url, FakeLogCollector log)
    {
        _app = app;
        Url = url;
        Log = log;
    }

    public Uri Url { get; }

    /// <summary>What the host logged (warnings and up unless the test's settings ask for more), kept instead of printed.</summary>
    public FakeLogCollector Log { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<ProxyServer> StartAsync(Uri registry, IDictionary<string, string?>? settings = null, Action<WebApplicationBuilder>? configure = null)
    {
        // Warnings and up, kept in Log rather than printed, unless a test asks for more in its settings: the command
        // line beats appsettings.json (whose Default is Information), and the test's own settings come after, so they win.
        var args = new List<string> { "--urls=http://127.0.0.1:0", $"--Registry:Url={registry}", $"--Logging:LogLevel:Default={LogLevel.Warning}" };
        args.AddRange((settings ?? new Dictionary<string, string?>()).Select(s => $"--{s.Key}={s.Value}"));
        var log = new FakeLogCollector();
        var app = StandaloneHost.Build([.. args], builder =>
        {
            builder.Logging.ClearProviders().AddProvider(new FakeLoggerProvider(log));
            configure?.Invoke(builder);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new ProxyServer(app, new Uri(address), log);
    }

    public HttpClient CreateClient() => new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = Url };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal static class ProxyServerExtensions
{
    /// <summary>A request to the proxy whose failure message carries what the proxy logged, to say why.</summary>
    public static async Task<T> ExplainedBy<T>(this Task<T> request, ProxyServer proxy)
    {
        try
        {
            return await request;
        }
        catch (HttpRequestException e)
        {
            throw new HttpRequestException($"{e.Message}\nthe proxy logged:\n{proxy.Log.Describe()}", e);
        }
        catch (Xunit.Sdk.XunitException e)
        {
            // A real client's run that failed (a fleet's listing): what the proxy logged says why.
            throw new Xunit.Sdk.XunitException($"{e.Message}\nthe proxy logged:\n{proxy.Log.Describe()}", e);
        }
    }
}
