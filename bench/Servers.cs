using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace SysextFunctions.Bench;

/// <summary>The proxy as the bench runs it: its own process (<see cref="ProxyProcess"/>), blobs streamed, the given SHA256SUMS cache TTL.</summary>
internal static class Proxy
{
    /// <summary>How many extra upstreams <see cref="StartCachingAsync"/> gives a proxy to warm up on.</summary>
    public const int WarmUpstreams = 24;

    public static Task<ProxyProcess> StartAsync(Uri registry, string ttl, params string[] settings) =>
        ProxyProcess.StartAsync(registry, ["--Proxy:BlobDelivery=stream", $"--Cache:ChecksumsTtl={ttl}", .. settings]);

    /// <summary>
    /// A proxy that keeps listings and manifests, with <c>bench/*</c> served as usual and the same registry again
    /// under <c>warm1/*</c> … <c>warm24/*</c>: each is its own upstream with its own caches, so listing
    /// <c>/warm&lt;k&gt;/warmup/</c> is a cold listing every time, and the proxy can be brought to its steady state
    /// before a cold listing is timed.
    /// </summary>
    public static Task<ProxyProcess> StartCachingAsync(Uri registry)
    {
        List<string> settings = ["--Mappings:0:Path=bench/*", "--Mappings:0:Repository=bench/*"];
        for (var k = 1; k <= WarmUpstreams; k++)
        {
            settings.AddRange([$"--Registries:warm{k}:Url={registry}", $"--Mappings:{k}:Path=warm{k}/*", $"--Mappings:{k}:Repository=bench/*", $"--Mappings:{k}:Registry=warm{k}"]);
        }

        return StartAsync(registry, "00:10:00", [.. settings]);
    }
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
        var prefix = new TempDirectory("sysext-bench-nginx-");
        var file = Path.Combine(prefix.Path, "www", path);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        foreach (var dir in Directory.GetDirectories(prefix.Path, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        }

        await File.WriteAllBytesAsync(file, content);
        return await StartAsync(prefix, $"root {prefix.Path}/www;");
    }

    /// <summary>nginx as a reverse proxy of <paramref name="upstream"/> (<c>proxy_pass</c>, kept-alive upstream connections, 1 MiB buffers, no temp files).</summary>
    public static Task<Nginx> StartProxyAsync(Uri upstream) =>
        StartAsync(new TempDirectory("sysext-bench-nginx-"), $$"""
            location / {
                proxy_pass http://sysext_upstream;
                proxy_http_version 1.1;
                proxy_set_header Connection "";
                # Large buffers and no spooling to disk: nginx at its best for one big body.
                proxy_buffer_size 256k;
                proxy_buffers 8 1m;
                proxy_busy_buffers_size 2m;
                proxy_max_temp_file_size 0;
            }
            """, $$"""
            upstream sysext_upstream { server {{upstream.Authority}}; keepalive 16; }
            """);

    private static async Task<Nginx> StartAsync(TempDirectory prefix, string server, string http = "")
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: run scripts/bench.sh (it installs nginx-light)");
        }

        // nginx workers drop root: they must be able to reach what is served and their temp paths.
        File.SetUnixFileMode(prefix.Path, (UnixFileMode)0b111_101_101);
        var port = FreePort.Next();
        var config = Path.Combine(prefix.Path, "nginx.conf");
        // A plain static-file server tuned as one would for this: workers per core, no logging, sendfile, long keep-alive.
        await File.WriteAllTextAsync(config, $$"""
            worker_processes auto;
            pid {{prefix.Path}}/nginx.pid;
            error_log stderr notice;
            events { worker_connections 4096; }
            http {
                access_log off;
                sendfile on;
                tcp_nopush on;
                keepalive_requests 1000000;
                keepalive_timeout 65;
                default_type text/plain;
                client_body_temp_path {{prefix.Path}}/client_body;
                proxy_temp_path {{prefix.Path}}/proxy_temp;
                {{http}}
                server {
                    listen 127.0.0.1:{{port}};
                    {{server}}
                }
            }
            """);
        // At notice, its error log (stderr, drained) says "start worker processes" once the master has bound the port.
        var process = ChildProcess.Start(new ProcessStartInfo(Binary, ["-p", prefix.Path, "-c", config, "-e", "stderr", "-g", "daemon off;"]), "start worker processes");
        var url = new Uri($"http://127.0.0.1:{port}");
        await process.WaitReadyAsync(TimeSpan.FromSeconds(30));
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

    /// <summary>
    /// Requests per second over <paramref name="paths"/> of <paramref name="server"/>, taken in turn (each client
    /// starts at its own place in the list): wrk with a Lua script that hands out the paths, else an HttpClient loop.
    /// Any answer but 2xx fails the run.
    /// </summary>
    public static async Task<double> RequestsPerSecondAsync(Uri server, IReadOnlyList<string> paths, int clients, int seconds)
    {
        if (!File.Exists(Wrk))
        {
            return await HttpClientLoopAsync(server, paths, clients, seconds);
        }

        using var dir = new TempDirectory("sysext-bench-wrk-");
        var script = dir.Combine("paths.lua");
        // Lua's long strings need no escaping; the paths are ours (hex keys, repository names).
        await File.WriteAllTextAsync(script, $$"""
            local paths = { {{string.Join(",\n", paths.Select(p => $"[[{p}]]"))}} }
            local n = 0
            setup = function(thread) n = n + 1; thread:set("first", n * 7919) end
            init = function() i = first or 0 end
            request = function()
              i = i + 1
              return wrk.format("GET", paths[(i % #paths) + 1])
            end
            """);
        var start = new ProcessStartInfo(Wrk, ["-t", Math.Min(Environment.ProcessorCount, 4).ToString(CultureInfo.InvariantCulture), "-c", clients.ToString(CultureInfo.InvariantCulture), "-d", $"{seconds}s", "-s", script, server.AbsoluteUri]);
        var output = (await ChildProcess.RunAsync(start, TimeSpan.FromSeconds(seconds + 60))).Stdout;
        if (output.Contains("Non-2xx", StringComparison.Ordinal) || output.Contains("Socket errors", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"wrk saw errors against {server}:\n{output}");
        }

        var match = RequestsPerSec().Match(output);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException($"no rate in wrk's output:\n{output}");
    }

    private static async Task<double> HttpClientLoopAsync(Uri server, IReadOnlyList<string> paths, int clients, int seconds)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients });
        var deadline = Stopwatch.StartNew();
        long count = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async client =>
        {
            for (var i = client * 7919; deadline.Elapsed.TotalSeconds < seconds; i++)
            {
                using var response = await http.GetAsync(new Uri(server, paths[i % paths.Count]));
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync();
                Interlocked.Increment(ref count);
            }
        }));
        return count / deadline.Elapsed.TotalSeconds;
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
