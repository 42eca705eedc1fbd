using System.Diagnostics;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// The standalone host as a process of its own (<c>dotnet SysextFunctions.dll</c> from
/// <see cref="RepoPaths.FunctionsOutput"/>) on a free loopback port: what <see cref="ProxyServer"/> runs in process,
/// for what only a separate process shows (the benchmark reads its CPU time and memory).
/// </summary>
internal sealed class ProxyProcess : IAsyncDisposable
{
    private ProxyProcess(BackgroundProcess process, Uri url)
    {
        Process = process;
        Url = url;
    }

    public BackgroundProcess Process { get; }

    public Uri Url { get; }

    /// <param name="registry">Its <c>Registry:Url</c>.</param>
    /// <param name="arguments">More of its command line (<c>--Section:Key=value</c>); warnings and up are logged unless one says otherwise.</param>
    public static async Task<ProxyProcess> StartAsync(Uri registry, params string[] arguments)
    {
        var dll = Path.Combine(RepoPaths.FunctionsOutput, "SysextFunctions.dll");
        ChildProcess.Require(dll);
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        // Later arguments win, so the caller's come last.
        // Kestrel's "Now listening on" (the lifetime logger, kept at Information) says when it serves.
        var start = new ProcessStartInfo("dotnet", [dll, $"--urls={url}", $"--Registry:Url={registry}", "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information", .. arguments]);
        // The caller's telemetry settings are not the proxy's.
        start.Environment.Remove("OTEL_TRACES_EXPORTER");
        start.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        start.Environment.Remove("APPLICATIONINSIGHTS_CONNECTION_STRING");
        var process = ChildProcess.Start(start, $"Now listening on: {url.AbsoluteUri.TrimEnd('/')}");
        try
        {
            await process.WaitReadyAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return new ProxyProcess(process, url);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
