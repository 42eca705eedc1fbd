using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using SysextFunctions.Tests.Infrastructure;

namespace SysextFunctions.Bench;

/// <summary>The standalone proxy as its own process (so that its memory can be read from /proc), on a free loopback port.</summary>
internal sealed class Proxy : IAsyncDisposable
{
    private Proxy(BackgroundProcess process, Uri url)
    {
        Process = process;
        Url = url;
    }

    public BackgroundProcess Process { get; }

    public Uri Url { get; }

    public static async Task<Proxy> StartAsync(Uri registry, string ttl)
    {
        var dll = Path.Combine(RepoPaths.Root, "src", "Functions", "bin", Configuration, "net10.0", "SysextFunctions.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: run scripts/bench.sh (it builds the proxy)");
        }

        var port = FreePort.Next();
        var url = new Uri($"http://127.0.0.1:{port}");
        var process = ChildProcess.Start(new ProcessStartInfo("dotnet", [dll, $"--urls={url}", $"--Registry:Url={registry}", "--Proxy:BlobDelivery=stream",
            $"--Cache:ChecksumsTtl={ttl}", "--Logging:LogLevel:Default=Warning"]));
        await process.WaitReadyAsync(url, TimeSpan.FromSeconds(30));
        return new Proxy(process, url);
    }

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}

/// <summary>Debian's nginx-light with a private prefix and config, serving one file from a temporary root.</summary>
internal sealed class Nginx : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/nginx";

    private readonly TempDirectory _prefix;
    private readonly BackgroundProcess _process;

    private Nginx(TempDirectory prefix, BackgroundProcess process, Uri url)
    {
        _prefix = prefix;
        _process = process;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<Nginx> StartAsync(string path, byte[] content)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: run scripts/bench.sh (it installs nginx-light)");
        }

        var prefix = new TempDirectory("sysext-bench-nginx-");
        // nginx workers drop root; they must be able to read what is served from here.
        File.SetUnixFileMode(prefix.Path, (UnixFileMode)0b111_101_101);
        var file = Path.Combine(prefix.Path, "www", path);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        foreach (var dir in Directory.GetDirectories(prefix.Path, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        }

        await File.WriteAllBytesAsync(file, content);
        var port = FreePort.Next();
        var config = Path.Combine(prefix.Path, "nginx.conf");
        // A plain static-file server tuned as one would for this: workers per core, no logging, sendfile, long keep-alive.
        await File.WriteAllTextAsync(config, $$"""
            worker_processes auto;
            pid {{prefix.Path}}/nginx.pid;
            error_log {{prefix.Path}}/error.log warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                sendfile on;
                tcp_nopush on;
                keepalive_requests 1000000;
                keepalive_timeout 65;
                default_type text/plain;
                client_body_temp_path {{prefix.Path}}/client_body;
                server {
                    listen 127.0.0.1:{{port}};
                    root {{prefix.Path}}/www;
                }
            }
            """);
        var process = ChildProcess.Start(new ProcessStartInfo(Binary, ["-p", prefix.Path, "-c", config, "-e", Path.Combine(prefix.Path, "error.log"), "-g", "daemon off;"]));
        var url = new Uri($"http://127.0.0.1:{port}");
        await process.WaitReadyAsync(url, TimeSpan.FromSeconds(30));
        return new Nginx(prefix, process, url);
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _prefix.Dispose();
    }
}

/// <summary>The load generator: wrk when installed, else an HttpClient loop; the same tool for both sides.</summary>
internal static partial class Load
{
    public const string Wrk = "/usr/bin/wrk";

    public static string Tool => File.Exists(Wrk) ? "wrk" : "an HttpClient loop";

    public static async Task<double> RequestsPerSecondAsync(Uri uri, int clients, int seconds, int expectedLength)
    {
        if (!File.Exists(Wrk))
        {
            return await HttpClientLoopAsync(uri, clients, seconds, expectedLength);
        }

        var start = new ProcessStartInfo(Wrk, ["-t", Math.Min(Environment.ProcessorCount, 4).ToString(CultureInfo.InvariantCulture), "-c", clients.ToString(CultureInfo.InvariantCulture), "-d", $"{seconds}s", uri.AbsoluteUri]);
        var output = (await ChildProcess.RunAsync(start, TimeSpan.FromSeconds(seconds + 60))).Stdout;
        if (output.Contains("Non-2xx", StringComparison.Ordinal) || output.Contains("Socket errors", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"wrk saw errors against {uri}:\n{output}");
        }

        var match = RequestsPerSec().Match(output);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException($"no rate in wrk's output:\n{output}");
    }

    private static async Task<double> HttpClientLoopAsync(Uri uri, int clients, int seconds, int expectedLength)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients });
        var deadline = Stopwatch.StartNew();
        long count = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (deadline.Elapsed.TotalSeconds < seconds)
            {
                var body = await http.GetByteArrayAsync(uri);
                if (body.Length != expectedLength)
                {
                    throw new InvalidOperationException($"{uri} gave {body.Length} bytes");
                }

                Interlocked.Increment(ref count);
            }
        }));
        return count / deadline.Elapsed.TotalSeconds;
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSec();
}

/// <summary>What the numbers were measured on.</summary>
internal static class Machine
{
    public static string Describe()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memKiB = long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return $"machine: {Environment.ProcessorCount} cores (nproc), {cpu}, {memKiB / 1024.0 / 1024:F1} GiB RAM, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }
}
