using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// Keeps the lines its logging configuration lets through in memory (the last 500), for a test to check or to show in
/// a failing test's message, instead of printing them.
/// </summary>
internal sealed class CapturedLog : ILoggerProvider
{
    private const int MaxLines = 500;

    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public override string ToString() => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                log._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : "\n" + exception)}");
                while (log._lines.Count > MaxLines && log._lines.TryDequeue(out _))
                {
                }
            }
        }
    }
}
