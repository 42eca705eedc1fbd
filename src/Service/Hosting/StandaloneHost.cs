using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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

        builder.Services.AddOptions<ServerLimitsOptions>().Bind(builder.Configuration.GetSection(ServerLimitsOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ServerLimitsOptions>, ServerLimitsOptionsValidation>();
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            kestrel.AddServerHeader = false;
            // Kestrel's options are made while the app is built, before StartupCheck: read the limits here without
            // throwing, apply them when valid; a bad value is then refused by StartupCheck with its one line.
            ServerLimitsOptions? limits;
            try
            {
                limits = context.Configuration.GetSection(ServerLimitsOptions.Section).Get<ServerLimitsOptions>() ?? new ServerLimitsOptions();
            }
            catch (InvalidOperationException)
            {
                limits = null;
            }

            if (limits is not null && new ServerLimitsOptionsValidation().Validate(null, limits).Succeeded)
            {
                kestrel.Limits.MaxConcurrentConnections = limits.MaxConcurrentConnections;
                kestrel.Limits.MaxResponseBufferSize = limits.MaxResponseBufferSize;
                kestrel.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;
            }
        });
        // AllowedHosts is checked by SysextHandler in both hostings, with a plain-text 400 like every refusal; ASP.NET
        // Core's own host filtering (an HTML 400 without Cache-Control, standalone only) is left with nothing to do.
        builder.Services.PostConfigure<HostFilteringOptions>(o => o.AllowedHosts = ["*"]);
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
