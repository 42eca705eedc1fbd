using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SysextFunctions.Http;

namespace SysextFunctions.Hosting;

/// <summary>
/// OpenTelemetry for both hostings: traces of incoming requests and of the registry calls behind them, and our own
/// metrics (<see cref="Telemetry"/>). Exported to Azure Monitor when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is
/// set and over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is.
/// </summary>
public static class TelemetryServices
{
    internal const string ConnectionStringKey = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    internal const string AuthenticationStringKey = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";
    internal const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Whether telemetry leaves the process: to Azure Monitor, or over OTLP.</summary>
    public static bool Exports(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[ConnectionStringKey]) || !string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey]);

    /// <summary>
    /// Registers OpenTelemetry. Under the Functions worker the host already records each invocation as a request,
    /// so the worker adds its invocation spans instead of ASP.NET Core's (src/Functions adds the worker's own
    /// part: Hosting/FunctionsTelemetry.cs).
    /// </summary>
    public static IOpenTelemetryBuilder AddSysextTelemetry(this IServiceCollection services, IConfiguration configuration, bool functionsWorker)
    {
        var builder = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(Telemetry.ServiceName, serviceVersion: typeof(Telemetry).Assembly.GetName().Version?.ToString()))
            .WithTracing(tracing =>
            {
                tracing.AddHttpClientInstrumentation();
                if (!functionsWorker)
                {
                    // A machine-scoped path carries a machine key: the span keeps the path with the key blanked out.
                    tracing.AddAspNetCoreInstrumentation(o => o.EnrichWithHttpRequest = (activity, request) =>
                        activity.SetTag("url.path", Sysupdate.SysupdatePath.Redact(request.Path.Value ?? "")));
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Telemetry.Name).AddHttpClientInstrumentation();
                if (!functionsWorker)
                {
                    metrics.AddAspNetCoreInstrumentation();
                }
            });

        var azureMonitor = !string.IsNullOrWhiteSpace(configuration[ConnectionStringKey]);
        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey]);
        if (azureMonitor)
        {
            var connectionString = configuration[ConnectionStringKey];
            var credential = CredentialFor(configuration[AuthenticationStringKey]);
            builder.UseAzureMonitorExporter(options =>
            {
                options.ConnectionString = connectionString;
                options.Credential = credential;
            });
        }

        if (otlp)
        {
            // Reads OTEL_EXPORTER_OTLP_ENDPOINT, _PROTOCOL, _HEADERS and the per-signal variants from configuration.
            builder.UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// The Entra ID credential that <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> asks for
    /// (<c>Authorization=AAD</c>, optionally <c>ClientId=</c> of a user-assigned identity), the same setting the
    /// Functions host reads; null when ingestion uses the connection string alone.
    /// </summary>
    internal static TokenCredential? CredentialFor(string? authenticationString) =>
        ParseAuthenticationString(authenticationString) is { } aad
            ? new ManagedIdentityCredential(aad.ClientId is null ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(aad.ClientId))
            : null;

    /// <summary>What <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> says: null for none; a client ID for a user-assigned identity.</summary>
    internal static AadAuthentication? ParseAuthenticationString(string? authenticationString)
    {
        if (string.IsNullOrWhiteSpace(authenticationString))
        {
            return null;
        }

        var parts = authenticationString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var authorization) || !authorization.Equals("AAD", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{AuthenticationStringKey} must contain Authorization=AAD");
        }

        return new AadAuthentication(parts.TryGetValue("ClientId", out var clientId) && !string.IsNullOrEmpty(clientId) ? clientId : null);
    }

    /// <summary>Entra ID ingestion with a managed identity: the system-assigned one when <paramref name="ClientId"/> is null.</summary>
    internal sealed record AadAuthentication(string? ClientId);
}
