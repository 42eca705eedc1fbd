using System.Diagnostics;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// Debian's <c>docker-registry</c> (distribution 2.8) on a free loopback port with throwaway storage. A missing
/// binary fails the test: run scripts/install-test-prereqs.sh.
/// </summary>
public sealed class RegistryServer : IAsyncLifetime, IAsyncDisposable
{
    public const string Binary = "/usr/bin/docker-registry";

    private readonly TempDirectory _storage = new("sysext-registry-");
    private readonly string? _extraConfig;
    private readonly TestCertificateAuthority? _tls;
    private BackgroundProcess? _process;

    public RegistryServer() : this(null)
    {
    }

    private RegistryServer(string? extraConfig, TestCertificateAuthority? tls = null)
    {
        _extraConfig = extraConfig;
        _tls = tls;
    }

    /// <param name="extraConfig">YAML appended to the config (e.g. an <c>auth:</c> or <c>storage: cache:</c> section).</param>
    internal static RegistryServer WithConfig(string extraConfig) => new(extraConfig);

    /// <summary>Serving HTTPS (<c>http.tls</c>) with the server certificate <paramref name="ca"/> issued; the caller keeps <paramref name="ca"/>.</summary>
    internal static RegistryServer WithTls(TestCertificateAuthority ca) => new(null, ca);

    /// <summary>The registry's process, for what the benchmark measures of it.</summary>
    internal BackgroundProcess Process => _process ?? throw new InvalidOperationException("not started");

    /// <summary>Debian's packaged config keeps blob descriptors in memory; the benchmark runs the registry that way.</summary>
    internal bool BlobDescriptorCache { get; init; }

    public int Port { get; private set; }

    public Uri Url => new($"{(_tls is null ? "http" : "https")}://127.0.0.1:{Port}");

    public string StorageDirectory => _storage.Path;

    public async ValueTask InitializeAsync()
    {
        ChildProcess.Require(Binary);

        Port = FreePort.Next();
        var config = _storage.Combine("config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: info
              accesslog:
                disabled: true
            storage:
            {(BlobDescriptorCache ? "  cache:\n    blobdescriptor: inmemory\n" : "")}  filesystem:
                rootdirectory: {_storage.Combine("data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{Port}
              secret: throwaway-test-secret
            {(_tls is null ? "" : $"  tls:\n    certificate: {_tls.ServerCertificatePath}\n    key: {_tls.ServerKeyPath}")}
            {_extraConfig}
            """);

        var start = new ProcessStartInfo(Binary, ["serve", config]);
        // OTel and other env of the test host must not leak into the registry.
        start.Environment.Remove("OTEL_TRACES_EXPORTER");
        // It logs this at level info once its socket listens ("listening on 127.0.0.1:PORT", with ", tls" for HTTPS);
        // info also logs one line per request, which is drained.
        _process = ChildProcess.Start(start, $"listening on 127.0.0.1:{Port}");
        await _process.WaitReadyAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        _storage.Dispose();
    }
}
