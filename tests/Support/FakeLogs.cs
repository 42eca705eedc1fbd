using Microsoft.Extensions.Logging.Testing;

namespace SysextFunctions.Tests.Support;

internal static class FakeLogs
{
    /// <summary>What a host logged, one record a line, for a failing test's message.</summary>
    public static string Describe(this FakeLogCollector log) =>
        string.Join('\n', log.GetSnapshot().Select(r => $"{r.Level} {r.Category}: {r.Message}{(r.Exception is null ? "" : "\n" + r.Exception)}"));
}
