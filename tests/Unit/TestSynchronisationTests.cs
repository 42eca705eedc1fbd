using System.Text.RegularExpressions;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Unit;

/// <summary>
/// Tests wait on the event itself (a line a process prints, a task completed by the code that does the thing, a
/// process exit), never on a sleep that is usually long enough (docs/development.md: Conventions). The only delays
/// allowed in tests/ simulate a slow or stalled peer, and say so in the comment on the line above or at its end.
/// </summary>
public partial class TestSynchronisationTests
{
    /// <summary>What a delay that simulates a slow peer carries.</summary>
    public const string Marker = "// simulates a slow peer";

    [Fact]
    public void TestSources_EveryDelayOrSleep_SimulatesASlowPeer()
    {
        var tests = Path.Combine(RepoPaths.Root, "tests");
        var sources = Directory.EnumerateFiles(tests, "*.cs", SearchOption.AllDirectories)
            .Where(path => !Path.GetRelativePath(tests, path).Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            .ToList();

        var violations = sources.SelectMany(path => Violations(Path.GetRelativePath(RepoPaths.Root, path), File.ReadAllLines(path))).ToList();

        // The scan saw the test sources (this file among them), not an empty folder.
        Assert.Contains(sources, path => path.EndsWith(nameof(TestSynchronisationTests) + ".cs", StringComparison.Ordinal));
        Assert.True(violations.Count == 0, $"Task.Delay/Thread.Sleep used to wait for something; wait on the event itself, or mark a simulated slow peer with \"{Marker}\":\n{string.Join('\n', violations)}");
    }

    // The samples name the call apart from its parenthesis ("CALL" in the line), so that the scan above does not
    // find them in this file.
    [Theory]
    [InlineData("        await CALL(200);", "Task.Delay", true)]
    [InlineData("        CALL(50);", "Thread.Sleep", true)]
    [InlineData("        await CALL (TimeSpan.FromSeconds(1), cancellationToken);", "Task.Delay", true)]
    [InlineData("        CALL(10);", "System.Threading.Thread.Sleep", true)]
    [InlineData("        await CALL(Timeout.Infinite, ct); // simulates a slow peer: never answers", "Task.Delay", false)]
    [InlineData("        // CALL(200) would be a guess; wait on the event", "Task.Delay", false)]
    [InlineData("        await Task.WhenAny(ready.Task, exited).WaitAsync(timeout);", "", false)]
    public void Violations_OneLine_FlaggedUnlessMarkedOrComment(string template, string call, bool flagged)
    {
        Assert.Equal(flagged, Violations("x.cs", [template.Replace("CALL", call, StringComparison.Ordinal)]).Any());
    }

    [Fact]
    public void Violations_MarkerOnTheLineAbove_Allowed()
    {
        var delay = "        await Task.Delay" + "(pause, cancellationToken);";
        Assert.Empty(Violations("x.cs", ["        // simulates a slow peer: the registry trickles the body", delay]));
        Assert.Single(Violations("x.cs", ["        // simulates a slow peer", "        var x = 1;", delay]));
    }

    /// <summary>Each line of <paramref name="lines"/> that delays or sleeps without the marker on it or just above.</summary>
    internal static IEnumerable<string> Violations(string path, IReadOnlyList<string> lines)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith("//", StringComparison.Ordinal) || !DelayOrSleep().IsMatch(line))
            {
                continue;
            }

            if (!line.Contains(Marker, StringComparison.Ordinal) && !(i > 0 && lines[i - 1].Contains(Marker, StringComparison.Ordinal)))
            {
                yield return $"{path}:{i + 1}: {line.Trim()}";
            }
        }
    }

    [GeneratedRegex(@"\b(?:Task\s*\.\s*Delay|Thread\s*\.\s*Sleep)\s*\(")]
    private static partial Regex DelayOrSleep();
}
