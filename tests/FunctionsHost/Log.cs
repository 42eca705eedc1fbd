namespace SysextFunctions.FunctionsHost;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Worker {Pid} started: {Command}")]
    public static partial void WorkerStarted(ILogger logger, int pid, string command);

    [LoggerMessage(2, LogLevel.Information, "Worker initialized: HttpUri {HttpUri}, capabilities {Capabilities}")]
    public static partial void WorkerInitialized(ILogger logger, Uri httpUri, string capabilities);

    [LoggerMessage(3, LogLevel.Information, "Function {Name} loaded: {Methods} {Template}")]
    public static partial void FunctionLoaded(ILogger logger, string name, string methods, string template);

    [LoggerMessage(4, LogLevel.Error, "INVOCATION FAILED: {Invocation}")]
    public static partial void InvocationFailed(ILogger logger, InvocationRecord invocation);

    [LoggerMessage(5, LogLevel.Debug, "Invocation done: {Invocation}")]
    public static partial void InvocationDone(ILogger logger, InvocationRecord invocation);

    [LoggerMessage(6, LogLevel.Information, "{Line}")]
    public static partial void WorkerOutput(ILogger logger, string line);

    [LoggerMessage(7, LogLevel.Error, "Worker exited with {ExitCode}")]
    public static partial void WorkerExited(ILogger logger, int exitCode);

    [LoggerMessage(8, LogLevel.Information, "Functions host emulator listening on {Urls}")]
    public static partial void Listening(ILogger logger, string urls);
}
