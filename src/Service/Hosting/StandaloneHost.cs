using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SysextFunctions.Http;

namespace SysextFunctions.Hosting;

/// <summary>
/// The same handler on plain Kestrel, for a single machine and wherever the Functions host is absent.
/// </summary>
public static class StandaloneHost
{
    public const string DefaultUrl = "http://localhost:5001";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // appsettings.json ships beside the binary, so the content root is there, not wherever we were started.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey])
            && string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.HttpPortsKey])
            && !builder.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        // The slim builder leaves out HTTPS: this lets Kestrel:Endpoints:<name>:Certificate (Path/KeyPath, or a store) serve it.
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.Services.AddSysextProxy(builder.Configuration);
        builder.Services.AddSysextTelemetry(builder.Configuration, functionsWorker: false);
        if (string.IsNullOrEmpty(builder.Configuration["Logging:Console:FormatterName"]))
        {
            // Structured by default: one JSON object per line, which journald and log collectors keep apart and
            // parse. Logging:Console:FormatterName=simple gives the human-readable form.
            builder.Logging.AddJsonConsole(json =>
            {
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                json.UseUtcTimestamp = true;
            });
        }

        configure?.Invoke(builder);

        var app = builder.Build();
        // Every method reaches the handler, so that 405 and path errors read the same on every route.
        app.Map("/{**path}", (HttpContext context, SysextHandler handler) => handler.HandleAsync(context));
        return app;
    }
}
