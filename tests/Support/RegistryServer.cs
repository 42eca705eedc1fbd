using System.Diagnostics;

namespace SysextFunctions.Tests.Infrastructure;

/// <summary>
/// Debian's <c>docker-registry</c> (distribution 2.8) on a free loopback port with throwaway storage. A missing
/// binary fails the test: run scripts/install-test-prereqs.sh.
/// </summary>
public sealed class RegistryServer : IAsyncLifetime
{
    public const string Binary = "/usr/bin/docker-registry";

    private readonly TempDirectory _storage = new("sysext-registry-");
    private readonly string? _extraConfig;
    private Process? _process;

    public RegistryServer() : this(null)
    {
    }

    private RegistryServer(string? extraConfig)
    {
        _extraConfig = extraConfig;
    }

    /// <param name="extraConfig">YAML appended to the config (e.g. an <c>auth:</c> section).</param>
    internal static RegistryServer WithConfig(string extraConfig) => new(extraConfig);

    public int Port { get; private set; }

    public Uri Url => new($"http://127.0.0.1:{Port}");

    public string StorageDirectory => _storage.Path;

    public async Task InitializeAsync()
    {
        ChildProcess.Require(Binary);

        Port = FreePort.Next();
        var config = _storage.Combine("config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: error
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {_storage.Combine("data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{Port}
              secret: throwaway-test-secret
            {_extraConfig}
            """);

        var start = new ProcessStartInfo(Binary, ["serve", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // OTel and other env of the test host must not leak into the registry.
        start.Environment.Remove("OTEL_TRACES_EXPORTER");
        _process = Process.Start(start) ?? throw new InvalidOperationException("docker-registry did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"docker-registry exited with {_process.ExitCode}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(Url, "/v2/"));
                // 200 without auth, 401 with: either way it is up.
                return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _storage.Dispose();
    }
}
