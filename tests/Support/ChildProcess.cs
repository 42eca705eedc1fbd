using System.Collections.Concurrent;
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
    /// <param name="readyLine">
    /// What the server prints once it serves (part of one line on its stdout or stderr, such as Kestrel's
    /// <c>Now listening on: http://127.0.0.1:PORT</c>), which <see cref="BackgroundProcess.WaitReadyAsync"/> waits for;
    /// null for a caller that finds out otherwise.
    /// </param>
    public static BackgroundProcess Start(ProcessStartInfo start, string? readyLine) => BackgroundProcess.Start(start, readyLine);
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
    private const int KeptLines = 50;

    private readonly Process _process;
    private readonly string? _readyLine;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<string> _output = new();

    private BackgroundProcess(Process process, string? readyLine)
    {
        _process = process;
        _readyLine = readyLine;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines it printed (stdout and stderr), for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    internal static BackgroundProcess Start(ProcessStartInfo start, string? readyLine)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = new Process { StartInfo = start };
        var background = new BackgroundProcess(process, readyLine);
        var verbose = Environment.GetEnvironmentVariable("SYSEXT_TEST_VERBOSE") == "1";
        var name = Path.GetFileName(start.FileName);
        process.OutputDataReceived += (_, e) => background.Read(e.Data, null);
        process.ErrorDataReceived += (_, e) => background.Read(e.Data, verbose ? name : null);
        if (!process.Start())
        {
            throw new InvalidOperationException($"{start.FileName} did not start");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return background;
    }

    /// <summary>
    /// Waits for the ready line given to <see cref="ChildProcess.Start"/>, for at most <paramref name="timeout"/>;
    /// fails at once, with what it printed, if the process exits first.
    /// </summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var readyLine = _readyLine ?? throw new InvalidOperationException("started without a ready line to wait for");
        var exited = _process.WaitForExitAsync();
        try
        {
            if (await Task.WhenAny(_ready.Task, exited).WaitAsync(timeout) != _ready.Task)
            {
                throw new InvalidOperationException($"{_process.StartInfo.FileName} exited with {_process.ExitCode} before it printed \"{readyLine}\"\n--- output\n{Output}");
            }
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{_process.StartInfo.FileName} did not print \"{readyLine}\" within {timeout}\n--- output\n{Output}", e);
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

    private void Read(string? line, string? echoAs)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > KeptLines && _output.TryDequeue(out _))
        {
        }

        if (_readyLine is not null && line.Contains(_readyLine, StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }

        if (echoAs is not null && line.Length > 0)
        {
            Console.Error.WriteLine($"[{echoAs}] {line}");
        }
    }
}
