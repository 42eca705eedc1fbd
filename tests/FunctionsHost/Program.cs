using System.Runtime.InteropServices;
using SysextFunctions.FunctionsHost;

// scripts/functions-host.sh runs this: the Functions host emulator in front of the built worker, until
// SIGINT/SIGTERM. App settings come from this process's environment, which the worker inherits.
var port = 7071;
string? appDirectory = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], out var p) && p is > 0 and < 65536:
            port = p;
            i++;
            break;
        case "--app-dir" when i + 1 < args.Length:
            appDirectory = args[++i];
            break;
        default:
            await Console.Error.WriteLineAsync($"usage: SysextFunctions.FunctionsHost [--port N] [--app-dir FOLDER]\nunknown or incomplete argument: {args[i]}");
            return 2;
    }
}

appDirectory ??= DefaultAppDirectory();
using var loggerFactory = LoggerFactory.Create(logging => logging
    .SetMinimumLevel(LogLevel.Information)
    .AddSimpleConsole(o => (o.SingleLine, o.TimestampFormat) = (true, "HH:mm:ss.fff ")));
var logger = loggerFactory.CreateLogger("FunctionsHost");

var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

FunctionsHostEmulator emulator;
try
{
    emulator = await FunctionsHostEmulator.StartAsync(new EmulatorOptions { AppDirectory = appDirectory, Urls = $"http://localhost:{port}" }, loggerFactory);
}
catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
{
#pragma warning disable CA1848 // Once, at exit.
    logger.LogCritical("{Reason}", e.Message);
#pragma warning restore CA1848
    return 1;
}

await using (emulator)
{
    var ended = await Task.WhenAny(stop.Task, emulator.WorkerExited);
    if (ended != stop.Task)
    {
#pragma warning disable CA1848 // Once, at exit.
        logger.LogCritical("the worker exited on its own");
#pragma warning restore CA1848
        return 1;
    }
}

var failures = emulator.Failures.Count;
await Console.Out.WriteLineAsync($"{emulator.Invocations.Count} invocations, {failures} failed");
return failures == 0 ? 0 : 3;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.TrySetResult();
}

// The Release build of src/Functions in the checkout this program was built from.
static string DefaultAppDirectory()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "SysextFunctions.sln")))
        {
            return Path.Combine(dir.FullName, "src", "Functions", "bin", "Release", "net10.0");
        }
    }

    throw new InvalidOperationException("SysextFunctions.sln not found above " + AppContext.BaseDirectory + ": pass --app-dir");
}
