using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using SysextFunctions.Rollouts;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Rollouts;

/// <summary>
/// The machine key never leaves the request line: a listing, downloads, pages and errors for a known key, with every
/// log category at Debug (message, structured state, scopes, exceptions), traces and metrics captured in memory,
/// and the key looked for in all of it and in every answer.
/// </summary>
[Collection(RegistryCollection.Name)]
public class RolloutPrivacyTests(RegistryServer registry)
{
    private const string Key = "5f0c2a9d81b34e6f9a7c1d2e3b4f5a6c";
    private const string Secret = "privacy-test-secret";

    [Fact]
    public async Task MachineKey_ListingDownloadsPagesErrors_NowhereInLogsTracesMetricsOrAnswers()
    {
        const string repository = "rollout/privacy/app";
        var pusher = new OciPusher(registry.Url);
        var v1 = Payloads.Random(3000, 191);
        await pusher.PushOrasArtifactAsync(repository, "v1", "app-v1.raw", v1);
        await new Oras(registry.Url).PushAsync(repository, "v2", "app-v2.raw", Payloads.Random(3000, 192));

        var logs = new ScopedLog();
        var activities = new List<Activity>();
        var metrics = new List<Metric>();
        var answers = new StringBuilder();
        Uri? server = null;
        await using (var proxy = await ProxyServer.StartAsync(
            registry.Url,
            new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Debug",
                ["Logging:LogLevel:Microsoft"] = "Debug",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug",
                ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Debug",
                ["Rollout:Steps"] = "50%@0h,100%@2d",
                ["Rollout:MachineKeySecret"] = Secret,
                ["Signing:Key"] = Convert.ToBase64String(SecretKey()),
                ["Proxy:BlobDelivery"] = "stream",
            },
            builder =>
            {
                builder.Logging.AddProvider(logs);
                builder.Services
                    .ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(activities))
                    .ConfigureOpenTelemetryMeterProvider(metrics2 => metrics2.AddInMemoryExporter(metrics));
            }))
        {
            server = proxy.Url;
            using var client = proxy.CreateClient();
            var scoped = $"/_m/{Key}/{repository}";
            foreach (var (path, accept) in new (string, string?)[]
            {
                ($"{scoped}/SHA256SUMS", null),
                ($"{scoped}/SHA256SUMS.gpg", null),
                ($"{scoped}/SHA256SUMS.asc", null),
                ($"{scoped}/SHA256SUMS.sha256.asc", null),
                ($"{scoped}/app-v1.raw", null),
                ($"{scoped}/app-v2.raw", null),
                ($"{scoped}/app-v9.raw", null),
                ($"{scoped}/app.transfer", null),
                ($"{scoped}/", "text/html"),
                ($"{scoped}/", "application/json"),
                ($"/_m/{Key}/rollout/privacy/other/SHA256SUMS", null),
                ($"/_m/{Key}/notserved!/SHA256SUMS", null),
                ($"/_m/{Key}/{repository}/bad%2Fname", null),
                ($"/_m/{Key}x/{repository}/SHA256SUMS", null),
            })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                if (accept is not null)
                {
                    request.Headers.Accept.ParseAdd(accept);
                }

                using var response = await client.SendAsync(request);
                answers.Append(response.StatusCode).Append(' ').Append(response.Headers).Append(response.Content.Headers)
                    .Append(Encoding.Latin1.GetString(await response.Content.ReadAsByteArrayAsync())).Append('\n');
            }

            using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{scoped}/app-v1.raw"));
            using var post = await client.PostAsync($"{scoped}/SHA256SUMS", null);
            answers.Append(head.Headers).Append(post.Headers).Append(await post.Content.ReadAsStringAsync());
            Assert.Equal(v1, await client.GetByteArrayAsync($"{scoped}/app-v1.raw"));
        }

        var machineHash = new MachineKeys(Secret).TryHash(Key)!.Value.Prefix;
        var logText = logs.ToString();
        // The test's own HttpClient is traced in this process too: its spans are the client's, not the server's.
        var traceText = string.Join('\n', activities
            .Where(a => !(a.Kind == ActivityKind.Client && (a.GetTagItem("url.full") as string ?? "").StartsWith(server!.AbsoluteUri, StringComparison.Ordinal)))
            .Select(Describe));
        var metricText = string.Join('\n', metrics.Select(Describe));

        // What was captured is real: requests were logged and traced, the download counted with the hashed machine.
        Assert.Contains($"by machine {machineHash}", logText, StringComparison.Ordinal);
        Assert.Contains("sysext.rollout.downloads", metricText, StringComparison.Ordinal);
        Assert.Contains("/_m/{key}/rollout/privacy/app/SHA256SUMS", traceText, StringComparison.Ordinal);
        Assert.Contains("Debug", logText, StringComparison.Ordinal);

        foreach (var (what, text) in new[] { ("logs", logText), ("traces", traceText), ("metrics", metricText), ("answers", answers.ToString()) })
        {
            Assert.False(text.Contains(Key, StringComparison.OrdinalIgnoreCase), $"the machine key is in the {what}:\n{Around(text, Key)}");
            Assert.False(text.Contains(Key[..16], StringComparison.OrdinalIgnoreCase), $"half the machine key is in the {what}:\n{Around(text, Key[..16])}");
        }
    }

    /// <summary>An OpenPGP secret key made in memory, so that signatures are made and served too.</summary>
    private static byte[] SecretKey()
    {
        var generator = new Org.BouncyCastle.Crypto.Generators.RsaKeyPairGenerator();
        generator.Init(new Org.BouncyCastle.Crypto.KeyGenerationParameters(new Org.BouncyCastle.Security.SecureRandom(), 2048));
        var pair = new Org.BouncyCastle.Bcpg.OpenPgp.PgpKeyPair(Org.BouncyCastle.Bcpg.PublicKeyAlgorithmTag.RsaGeneral, generator.GenerateKeyPair(), DateTime.UtcNow);
        return new Org.BouncyCastle.Bcpg.OpenPgp.PgpSecretKey(
            Org.BouncyCastle.Bcpg.OpenPgp.PgpSignature.DefaultCertification, pair, "privacy test", Org.BouncyCastle.Bcpg.SymmetricKeyAlgorithmTag.Null,
            (char[]?)null, false, null, null, new Org.BouncyCastle.Security.SecureRandom()).GetEncoded();
    }

    private static string Around(string text, string needle)
    {
        var at = text.IndexOf(needle, StringComparison.OrdinalIgnoreCase);
        return at < 0 ? "" : text[Math.Max(0, at - 300)..Math.Min(text.Length, at + 300)];
    }

    private static string Describe(Activity activity) =>
        $"{activity.DisplayName} {activity.OperationName} {activity.StatusDescription} "
        + string.Join(' ', activity.TagObjects.Select(t => $"{t.Key}={t.Value}"))
        + string.Join(' ', activity.Events.Select(e => e.Name + string.Join(' ', e.Tags.Select(t => $"{t.Key}={t.Value}"))))
        + string.Join(' ', activity.Baggage.Select(b => $"{b.Key}={b.Value}"));

    private static string Describe(Metric metric)
    {
        var text = new StringBuilder(metric.Name);
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            foreach (var tag in point.Tags)
            {
                text.Append(' ').Append(tag.Key).Append('=').Append(tag.Value);
            }
        }

        return text.ToString();
    }

    /// <summary>Every log entry whole: level, category, message, each structured value, the exception, and every scope around it.</summary>
    private sealed class ScopedLog : ILoggerProvider, ISupportExternalScope
    {
        private readonly List<string> _entries = [];
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public override string ToString()
        {
            lock (_entries)
            {
                return string.Join('\n', _entries);
            }
        }

        public void Dispose()
        {
        }

        private sealed class Logger(ScopedLog log, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => log._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var entry = new StringBuilder($"{logLevel} {category}: {formatter(state, exception)}");
                Values(entry, state);
                entry.Append(exception);
                log._scopes.ForEachScope((scope, text) => Values(text.Append(" scope: ").Append(scope), scope), entry);
                lock (log._entries)
                {
                    log._entries.Add(entry.ToString());
                }
            }

            private static void Values(StringBuilder text, object? state)
            {
                if (state is IEnumerable<KeyValuePair<string, object?>> values)
                {
                    foreach (var (key, value) in values)
                    {
                        text.Append(' ').Append(key).Append('=').Append(value);
                    }
                }
            }
        }
    }
}
