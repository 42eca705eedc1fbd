using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using SysextFunctions.FunctionsHost;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// The Azure Functions hosting, for real: the built worker of src/Functions (the build of the same configuration
/// as these tests, which the test project's reference builds) behind <see cref="FunctionsHostEmulator"/>, bound
/// to a free loopback port. Settings are given as app settings, i.e. environment variables.
/// </summary>
internal sealed class FunctionsHostServer : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;

    private FunctionsHostServer(FunctionsHostEmulator emulator, ILoggerFactory loggerFactory, FakeLogCollector log)
    {
        Emulator = emulator;
        _loggerFactory = loggerFactory;
        Log = log;
    }

    /// <summary>The emulator's and the worker's warnings and errors, for failure messages.</summary>
    public FakeLogCollector Log { get; }

    public FunctionsHostEmulator Emulator { get; }

    public Uri Url => Emulator.Url;

    /// <summary>The Functions project's build output of the same configuration and framework as these tests.</summary>
    public static string AppDirectory => RepoPaths.FunctionsOutput;

    /// <param name="settings">As for <see cref="ProxyServer.StartAsync"/>: <c>Section:Key</c> names, null to unset.</param>
    public static async Task<FunctionsHostServer> StartAsync(Uri registry, IDictionary<string, string?>? settings = null)
    {
        ChildProcess.Require(Path.Combine(AppDirectory, "SysextFunctions.dll"), Path.Combine(AppDirectory, "worker.config.json"));
        var environment = new Dictionary<string, string?>
        {
            ["Registry__Url"] = registry.AbsoluteUri,
            // The test host's telemetry settings are not the app's.
            ["OTEL_TRACES_EXPORTER"] = null,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = null,
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = null,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var log = new FakeLogCollector();
        var loggerFactory = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Warning).AddProvider(new FakeLoggerProvider(log)));
        try
        {
            var emulator = await FunctionsHostEmulator.StartAsync(new EmulatorOptions { AppDirectory = AppDirectory, Settings = environment }, loggerFactory);
            return new FunctionsHostServer(emulator, loggerFactory, log);
        }
        catch (Exception e)
        {
            loggerFactory.Dispose();
            throw new InvalidOperationException($"{e.Message}\n--- log\n{log.Describe()}", e);
        }
    }

    public HttpClient CreateClient() => new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = Url };

    /// <summary>Fails the test with every invocation that did not end in a success <c>InvocationResponse</c>.</summary>
    public async Task AssertEveryInvocationSucceededAsync()
    {
        await Emulator.WhenIdleAsync();
        var failures = Emulator.Failures;
        Assert.True(failures.Count == 0, $"{failures.Count} of {Emulator.Invocations.Count} invocations failed:\n{string.Join('\n', failures)}\n--- log\n{Log.Describe()}");
        Assert.NotEmpty(Emulator.Invocations);
    }

    public async ValueTask DisposeAsync()
    {
        await Emulator.DisposeAsync();
        _loggerFactory.Dispose();
    }
}
