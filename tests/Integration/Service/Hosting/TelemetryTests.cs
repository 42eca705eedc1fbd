using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Azure.Identity;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using SysextFunctions.Hosting;
using SysextFunctions.Http;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Hosting;

/// <summary>OpenTelemetry of the standalone host in front of the real registry, caught with in-memory exporters.</summary>
[Collection(RegistryCollection.Name)]
public class TelemetryTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);

    [Fact]
    public async Task File_Streamed_RequestAndRegistrySpansAndMetrics()
    {
        var content = Payloads.Random(300_000, 41);
        await _pusher.PushOrasArtifactAsync("telemetry/stream", "v1.0", "stream.raw", content);
        var telemetry = new Captured();
        MetricCollector<long> delivered, streamed;
        await using (var proxy = await telemetry.StartAsync(registry.Url, "auto"))
        {
            delivered = Collect(proxy, "sysext.files.delivered");
            streamed = Collect(proxy, "sysext.bytes.streamed");
            using var client = proxy.CreateClient();
            using var response = await client.GetAsync("/telemetry/stream/stream-v1.0.raw");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        }

        // Stopping the host ended the request: every byte it handed to the server is counted.
        using (delivered)
        using (streamed)
        {
            var file = Assert.Single(delivered.GetMeasurementSnapshot());
            Assert.Equal((1L, "telemetry/stream", "stream"), (file.Value, file.Tags[Telemetry.RepositoryAttribute], file.Tags[Telemetry.DeliveryAttribute]));
            Assert.Equal(content.Length, streamed.GetMeasurementSnapshot().EvaluateAsCounter());
        }

        // Stopping the host flushed both providers.
        var request = Assert.Single(telemetry.Activities, a => a.Kind == ActivityKind.Server && a.GetTagItem("url.path") as string == "/telemetry/stream/stream-v1.0.raw");
        Assert.Equal("telemetry/stream", request.GetTagItem(Telemetry.RepositoryAttribute));
        Assert.Equal("v1.0", request.GetTagItem(Telemetry.TagAttribute));
        Assert.Equal(OciPusher.Sha256(content), request.GetTagItem(Telemetry.DigestAttribute));
        Assert.Equal("stream-v1.0.raw", request.GetTagItem(Telemetry.FileAttribute));
        Assert.Equal(Telemetry.Delivery.Stream, request.GetTagItem(Telemetry.DeliveryAttribute));
        Assert.Equal((long)content.Length, request.GetTagItem(Telemetry.BytesAttribute));
        Assert.Equal(200, request.GetTagItem("http.response.status_code"));

        // The registry calls are client spans under the request, the blob GET among them.
        var dependencies = telemetry.Activities.Where(a => a.Kind == ActivityKind.Client && a.ParentSpanId == request.SpanId).ToList();
        Assert.Contains(dependencies, a => (a.GetTagItem("url.full") as string ?? "").EndsWith($"/v2/telemetry/stream/blobs/{OciPusher.Sha256(content)}", StringComparison.Ordinal));
        Assert.Contains(dependencies, a => (a.GetTagItem("url.full") as string ?? "").Contains("/v2/telemetry/stream/manifests/", StringComparison.Ordinal));
        Assert.All(dependencies, a => Assert.Equal(registry.Url.Port, a.GetTagItem("server.port")));

        Assert.Contains("sysext.files.delivered", telemetry.Exported);
        Assert.Contains("http.server.request.duration", telemetry.Exported);
        Assert.Contains("http.client.request.duration", telemetry.Exported);
    }

    [Fact]
    public async Task File_RedirectMode_CountedAsRedirectNothingStreamed()
    {
        await _pusher.PushOrasArtifactAsync("telemetry/redirect", "v2", "redirect.raw", Payloads.Random(1000, 42));
        var telemetry = new Captured();
        await using (var proxy = await telemetry.StartAsync(registry.Url, "redirect"))
        {
            using var delivered = Collect(proxy, "sysext.files.delivered");
            using var streamed = Collect(proxy, "sysext.bytes.streamed");
            using var client = proxy.CreateClient();
            using var response = await client.GetAsync("/telemetry/redirect/redirect-v2.raw");
            Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
            Assert.Equal(Telemetry.Delivery.Redirect, Assert.Single(delivered.GetMeasurementSnapshot()).Tags[Telemetry.DeliveryAttribute]);
            Assert.Empty(streamed.GetMeasurementSnapshot());
        }

        var request = Assert.Single(telemetry.Activities, a => a.Kind == ActivityKind.Server && a.GetTagItem("url.path") as string == "/telemetry/redirect/redirect-v2.raw");
        Assert.Equal(Telemetry.Delivery.Redirect, request.GetTagItem(Telemetry.DeliveryAttribute));
    }

    [Fact]
    public async Task ConsoleFormatter_NotConfigured_IsJson()
    {
        await using var proxy = await ProxyServer.StartAsync(registry.Url);

        Assert.Equal(ConsoleFormatterNames.Json, proxy.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
    }

    [Fact]
    public async Task ConsoleFormatter_SetToSimple_IsKept()
    {
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Logging:Console:FormatterName"] = "simple" });

        Assert.Equal(ConsoleFormatterNames.Simple, proxy.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
    }

    /// <summary>Each row expects its own answer: no credential, the system-assigned identity, or a user-assigned one by client ID.</summary>
    [Theory]
    [InlineData(null, false, null)]
    [InlineData("", false, null)]
    [InlineData("Authorization=AAD", true, null)]
    [InlineData("ClientId=00000000-0000-0000-0000-000000000001;Authorization=AAD", true, "00000000-0000-0000-0000-000000000001")]
    [InlineData(" authorization = aad ; clientid = abc ", true, "abc")]
    public void ParseAuthenticationString_Setting_NoneSystemOrUserAssigned(string? authentication, bool aad, string? clientId)
    {
        var parsed = TelemetryServices.ParseAuthenticationString(authentication);

        Assert.Equal(aad ? new TelemetryServices.AadAuthentication(clientId) : null, parsed);
        Assert.Equal(aad ? typeof(ManagedIdentityCredential) : null, TelemetryServices.CredentialFor(authentication)?.GetType());
    }

    [Fact]
    public void CredentialFor_WithoutAad_Throws()
    {
        var e = Assert.Throws<InvalidOperationException>(() => TelemetryServices.CredentialFor("ClientId=abc"));
        Assert.Contains("Authorization=AAD", e.Message, StringComparison.Ordinal);
    }

    // Only OTLP here: the Azure Monitor exporter, once built, reports its own usage to a public endpoint.
    [Fact]
    public void AddSysextFunctionsTelemetry_WithExporter_WorkerTakesOverItsTelemetry()
    {
        using var services = FunctionsWorkerServices(new() { [TelemetryServices.OtlpEndpointKey] = "http://127.0.0.1:9" });

        Assert.NotNull(services.GetService<TracerProvider>());
        Assert.NotNull(services.GetService<MeterProvider>());
        var capabilities = services.GetRequiredService<IOptions<WorkerOptions>>().Value.Capabilities;
        Assert.True(capabilities.TryGetValue("WorkerOpenTelemetryEnabled", out var enabled), "the worker tells the host it exports its own telemetry");
        Assert.Equal(bool.TrueString, enabled);
    }

    [Fact]
    public void AddSysextFunctionsTelemetry_WithoutExporter_HostKeepsWorkerLogs()
    {
        using var services = FunctionsWorkerServices([]);

        Assert.NotNull(services.GetService<TracerProvider>());
        Assert.False(services.GetRequiredService<IOptions<WorkerOptions>>().Value.Capabilities.ContainsKey("WorkerOpenTelemetryEnabled"));
    }

    private static ServiceProvider FunctionsWorkerServices(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddOptions<WorkerOptions>();
        services.AddSysextFunctionsTelemetry(configuration);
        return services.BuildServiceProvider();
    }

    /// <summary>Our own instrument of this host's meters (each host has its own, from its <see cref="IMeterFactory"/>).</summary>
    private static MetricCollector<long> Collect(ProxyServer proxy, string instrument) =>
        new(proxy.Services.GetRequiredService<IMeterFactory>(), Telemetry.Name, instrument);

    /// <summary>In-memory trace and metric exporters added to the host's own OpenTelemetry pipeline.</summary>
    private sealed class Captured
    {
        private readonly List<MetricSnapshot> _metrics = [];

        public List<Activity> Activities { get; } = [];

        /// <summary>The names of the metrics the host's pipeline exported.</summary>
        public IEnumerable<string> Exported => _metrics.Select(m => m.Name);

        public Task<ProxyServer> StartAsync(Uri registry, string delivery) =>
            ProxyServer.StartAsync(registry, new Dictionary<string, string?> { ["Proxy:BlobDelivery"] = delivery }, builder => builder.Services
                .ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Activities))
                .ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddInMemoryExporter(_metrics)));
    }
}
