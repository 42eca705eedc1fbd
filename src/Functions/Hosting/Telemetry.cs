using System.Diagnostics;
using System.Diagnostics.Metrics;
using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Hosting;

/// <summary>
/// OpenTelemetry for both hostings: traces of incoming requests and of the registry calls behind them, our own
/// metrics, and attributes on the request's activity saying which file went out and how. Exported to Azure Monitor
/// when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set and over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is.
/// </summary>
public static class Telemetry
{
    /// <summary>Name of our <see cref="Meter"/>, and of the service in exported resources.</summary>
    public const string Name = "SysextFunctions";

    public const string ServiceName = "sysext-functions";

    // Attribute names, in the OpenTelemetry style (a namespace, dot-separated, lower case).
    public const string RepositoryAttribute = "sysext.repository";
    public const string TagAttribute = "sysext.tag";
    public const string DigestAttribute = "sysext.digest";
    public const string FileAttribute = "sysext.file";
    public const string DeliveryAttribute = "sysext.delivery";
    public const string BytesAttribute = "sysext.bytes";

    /// <summary>How a file reached the client, as the <see cref="DeliveryAttribute"/> value.</summary>
    public static class Delivery
    {
        /// <summary>307 to the registry's own blob URL (<c>Proxy:BlobDelivery=redirect</c>).</summary>
        public const string Redirect = "redirect";

        /// <summary>The registry's redirect to its storage, passed on (<c>auto</c> against GHCR, Docker Hub, ACR).</summary>
        public const string StorageRedirect = "storage-redirect";

        /// <summary>Streamed through this service.</summary>
        public const string Stream = "stream";

        /// <summary>A HEAD answered from the manifest; no bytes.</summary>
        public const string Head = "head";
    }

    internal const string ConnectionStringKey = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    internal const string AuthenticationStringKey = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";
    internal const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> FilesDelivered = Meter.CreateCounter<long>(
        "sysext.files.delivered", "{file}", "Files handed to clients, by repository and delivery mode");

    private static readonly Counter<long> BytesStreamed = Meter.CreateCounter<long>(
        "sysext.bytes.streamed", "By", "Blob bytes streamed through this service (redirected files cost none)");

    /// <summary>Records a file answered to a client, on the current (request) activity and in the metrics.</summary>
    public static void FileDelivered(string repository, SysextFile file, string delivery)
    {
        Activity.Current?
            .SetTag(RepositoryAttribute, repository)
            .SetTag(TagAttribute, file.Tag)
            .SetTag(DigestAttribute, file.Digest.ToString())
            .SetTag(FileAttribute, file.Name)
            .SetTag(DeliveryAttribute, delivery)
            .SetTag(BytesAttribute, file.Size);
        // Tag and digest stay off the metric: one series per version would grow without bound.
        FilesDelivered.Add(1, new TagList { { RepositoryAttribute, repository }, { DeliveryAttribute, delivery } });
    }

    /// <summary>Records the bytes a stream actually sent, complete or not.</summary>
    public static void Streamed(string repository, long bytes) =>
        BytesStreamed.Add(bytes, new TagList { { RepositoryAttribute, repository } });

    /// <summary>
    /// Registers OpenTelemetry. Under the Functions worker the host already records each invocation as a request,
    /// so the worker adds its invocation spans instead of ASP.NET Core's, and takes over its own logs only when it
    /// exports them somewhere.
    /// </summary>
    public static IOpenTelemetryBuilder AddSysextTelemetry(this IServiceCollection services, IConfiguration configuration, bool functionsWorker)
    {
        var builder = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName, serviceVersion: typeof(Telemetry).Assembly.GetName().Version?.ToString()))
            .WithTracing(tracing =>
            {
                tracing.AddHttpClientInstrumentation();
                if (!functionsWorker)
                {
                    tracing.AddAspNetCoreInstrumentation();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Name).AddHttpClientInstrumentation();
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

        if (functionsWorker && (azureMonitor || otlp))
        {
            // Tells the host the worker sends its own telemetry, so worker logs are not exported twice; without
            // an exporter the host keeps doing it.
            builder.UseFunctionsWorkerDefaults();
        }

        return builder;
    }

    /// <summary>
    /// The Entra ID credential that <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> asks for
    /// (<c>Authorization=AAD</c>, optionally <c>ClientId=</c> of a user-assigned identity), the same setting the
    /// Functions host reads; null when ingestion uses the connection string alone.
    /// </summary>
    internal static TokenCredential? CredentialFor(string? authenticationString)
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

        return parts.TryGetValue("ClientId", out var clientId) && !string.IsNullOrEmpty(clientId)
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
    }
}
