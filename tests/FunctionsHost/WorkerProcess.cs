using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace SysextFunctions.FunctionsHost;

/// <summary>
/// The worker as the host starts a dotnet-isolated one: the executable and assembly named by
/// <c>worker.config.json</c>, the host's <c>--functions-*</c> arguments, the app settings and the host's own
/// variables in its environment, the app folder as working directory. Stopping it kills its whole tree.
/// </summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private const int OutputLines = 200;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private WorkerProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the worker printed, for error messages.</summary>
    public string Output => string.Join('\n', _output);

    public Task Exited => _process.WaitForExitAsync();

    public int ExitCode => _process.ExitCode;

    public static WorkerProcess Start(EmulatorOptions options, Uri hostUri, string workerId, ILogger logger)
    {
        var (executable, assembly) = ReadWorkerConfig(options.AppDirectory);
        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = options.AppDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])[assembly,
            "--functions-uri", hostUri.AbsoluteUri,
            "--functions-worker-id", workerId,
            "--functions-request-id", Guid.NewGuid().ToString(),
            "--functions-grpc-max-message-length", int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            start.ArgumentList.Add(argument);
        }

        // Ours to set, not the caller's: where the worker listens is the worker's choice, reported as HttpUri.
        foreach (var name in (string[])["ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_URLS"])
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in options.Settings)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        // Ours too: the emulator learns that the worker's HTTP side listens from its lifetime log ("Now listening
        // on: ..."), which an app setting such as Logging__LogLevel__Default=Warning would otherwise silence.
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = options.AppDirectory;
        start.Environment["FUNCTIONS_WORKER_DIRECTORY"] = options.AppDirectory;
        start.Environment["AzureWebJobsScriptRoot"] = options.AppDirectory;

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start");
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => worker.Keep(e.Data, logger);
        process.ErrorDataReceived += (_, e) => worker.Keep(e.Data, logger);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Log.WorkerStarted(logger, process.Id, $"{executable} {string.Join(' ', start.ArgumentList)}");
        return worker;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }

        _process.Dispose();
    }

    private static (string Executable, string Assembly) ReadWorkerConfig(string appDirectory)
    {
        var path = Path.Combine(appDirectory, "worker.config.json");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{path} is missing: is {appDirectory} the output of a build of the Functions project?");
        }

        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var description = config.RootElement.GetProperty("description");
        var executable = description.GetProperty("defaultExecutablePath").GetString()!;
        var assembly = Path.Combine(appDirectory, description.GetProperty("defaultWorkerPath").GetString()!);
        if (executable == "dotnet")
        {
            // The SDK that runs us (tests, dotnet run) names itself here; else the one on PATH.
            executable = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        }

        return (executable, assembly);
    }

    private void Keep(string? line, ILogger logger)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > OutputLines && _output.TryDequeue(out _))
        {
        }

        Log.WorkerOutput(logger, line);
    }
}
