using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// The one way the tests and the benchmark run a program: to its exit within a timeout (<see cref="RunAsync"/>), or
/// in the background until disposed (<see cref="Start"/>). Either way a process that overstays is killed with its
/// whole tree, and a missing tool fails the test; it is never skipped.
/// </summary>
internal static class ChildProcess
{
    /// <summary>What a run may take unless its caller says otherwise: long, but never forever.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Throws, naming the first of <paramref name="paths"/> that is missing and what installs it.</summary>
    public static void Require(params string[] paths)
    {
        foreach (var path in paths)
        {
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"{path} is missing: run scripts/install-test-prereqs.sh");
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="start"/> to its exit, <paramref name="stdin"/> written to it and both output streams
    /// captured (read together, so neither fills up). Past <paramref name="timeout"/> the process tree is killed and
    /// a <see cref="TimeoutException"/> says what it printed so far.
    /// </summary>
    public static async Task<ProcessRun> RunAsync(ProcessStartInfo start, TimeSpan? timeout = null, byte[]? stdin = null)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        // Only a run that is given input gets a pipe: some tools (systemd-pull) behave otherwise on one.
        start.RedirectStandardInput = stdin is not null;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        var limit = timeout ?? DefaultTimeout;
        using var cancel = new CancellationTokenSource(limit);
        try
        {
            if (stdin is not null)
            {
                await process.StandardInput.BaseStream.WriteAsync(stdin, cancel.Token);
                process.StandardInput.Close();
            }

            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            // A hung tool must not outlive its test; what it printed so far says where it hung.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            await copy;
            throw new TimeoutException($"{start.FileName} did not finish within {limit}\n--- stdout\n{Encoding.UTF8.GetString(stdout.ToArray())}\n--- stderr\n{await stderr}");
        }

        await copy;
        return new ProcessRun(process.ExitCode, stdout.ToArray(), await stderr);
    }

    /// <summary>Starts a server in the background; its output is drained (shown with <c>SYSEXT_TEST_VERBOSE=1</c>).</summary>
    public static BackgroundProcess Start(ProcessStartInfo start) => BackgroundProcess.Start(start);
}

internal sealed record ProcessRun(int ExitCode, byte[] StdoutBytes, string Stderr)
{
    public string Stdout => Encoding.UTF8.GetString(StdoutBytes);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// A server process a test or the benchmark started; disposing it kills its whole tree. The benchmark reads its CPU
/// time and memory (Linux only).
/// </summary>
internal sealed class BackgroundProcess : IAsyncDisposable
{
    private readonly Process _process;

    private BackgroundProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    internal static BackgroundProcess Start(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        var verbose = Environment.GetEnvironmentVariable("SYSEXT_TEST_VERBOSE") == "1";
        var name = Path.GetFileName(start.FileName);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (verbose && e.Data is { Length: > 0 } line)
            {
                Console.Error.WriteLine($"[{name}] {line}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new BackgroundProcess(process);
    }

    /// <summary>Waits until <paramref name="probe"/> answers at all (any status), for at most <paramref name="timeout"/>.</summary>
    /// <param name="client">The client to probe with (one trusting a test CA for HTTPS); the default is a plain one.</param>
    public async Task WaitReadyAsync(Uri probe, TimeSpan timeout, HttpClient? client = null)
    {
        using var own = client is null ? new HttpClient() : null;
        var http = client ?? own!;
        http.Timeout = TimeSpan.FromSeconds(2);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{_process.StartInfo.FileName} exited with {_process.ExitCode}");
            }

            try
            {
                using var response = await http.GetAsync(probe);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>User plus system CPU time it has used so far, in seconds (its children's excluded), from /proc.</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        // proc(5): the fields after the command name, which may hold spaces, start at state (field 3); utime and
        // stime (fields 14 and 15) count clock ticks of USER_HZ, 100 on Linux.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>Its resident set size now, in bytes, from /proc.</summary>
    public long RssBytes() => StatusKiB("VmRSS:") * 1024;

    /// <summary>The peak of its resident set size so far, in bytes, from /proc.</summary>
    public long PeakRssBytes() => StatusKiB("VmHWM:") * 1024;

    private long StatusKiB(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"{field} missing from /proc/{Pid}/status");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
