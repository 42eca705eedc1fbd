using System.Diagnostics;
using System.Net;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Scripts;

/// <summary>
/// <c>./scripts/functions-host.sh</c> as a person runs it: settings from the environment, served on the given
/// port, and after SIGTERM a clean exit that reports the invocations and leaves none of its processes behind.
/// </summary>
[Collection(RegistryCollection.Name)]
public class FunctionsHostScriptTests(RegistryServer registry)
{
    [Fact]
    public async Task FunctionsHostScript_ServesUntilSigterm_ThenNothingLeftRunning()
    {
        var content = Payloads.Random(10_000, 9);
        await new OciPusher(registry.Url).PushOrasArtifactAsync("scripts/functions/hello", "v1", "hello-v1.raw", content);
        var port = FreePort.Next();
        var start = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "scripts", "functions-host.sh"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Registry__Url"] = registry.Url.AbsoluteUri;
        start.Environment["Proxy__BlobDelivery"] = "stream";
        using var script = Process.Start(start)!;
        // The emulator logs this on stdout once the worker has loaded its functions and the front listens.
        var listening = $"Functions host emulator listening on http://localhost:{port}";
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stdout = ReadLinesAsync(script.StandardOutput, line =>
        {
            if (line.Contains(listening, StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        });
        var stderr = script.StandardError.ReadToEndAsync();
        int[] tree = [];
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://localhost:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            // It may build first: minutes, at most.
            var exited = script.WaitForExitAsync();
            Task? first = null;
            try
            {
                first = await Task.WhenAny(ready.Task, exited).WaitAsync(TimeSpan.FromMinutes(5));
            }
            catch (TimeoutException)
            {
            }

            if (first != ready.Task)
            {
                // The output only once it has ended: awaiting it earlier would wait for the script's end.
                var why = script.HasExited ? $"exited with {script.ExitCode}" : "ran 5 minutes";
                script.Kill(entireProcessTree: true);
                Assert.Fail($"functions-host.sh {why} before it printed \"{listening}\"\n{await stdout}\n{await stderr}");
            }

            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);
            Assert.Contains("hello-v1.raw", await client.GetStringAsync("/scripts/functions/hello/SHA256SUMS"), StringComparison.Ordinal);
            Assert.Equal(content, await client.GetByteArrayAsync("/scripts/functions/hello/hello-v1.raw"));
            tree = Descendants(script.Id);
            Assert.True(tree.Length >= 2, $"expected the emulator and its worker below the script, found {tree.Length}");

            await ChildProcess.RunAsync(new ProcessStartInfo("kill", ["-TERM", script.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
            await script.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        }
        finally
        {
            if (!script.HasExited)
            {
                script.Kill(entireProcessTree: true);
            }
        }

        Assert.True(script.ExitCode == 0, $"exit {script.ExitCode}\n{await stdout}\n{await stderr}");
        Assert.Contains("3 invocations, 0 failed", await stdout, StringComparison.Ordinal);
        Assert.All(tree, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"process {pid} outlived the script"));
    }

    /// <summary>Reads <paramref name="reader"/> to its end, each line to <paramref name="onLine"/> as it comes; returns it all.</summary>
    private static async Task<string> ReadLinesAsync(StreamReader reader, Action<string> onLine)
    {
        var all = new System.Text.StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            onLine(line);
            all.AppendLine(line);
        }

        return all.ToString();
    }

    /// <summary>Every process below <paramref name="pid"/>, from /proc.</summary>
    private static int[] Descendants(int pid)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var id))
            {
                try
                {
                    var ppid = File.ReadLines(Path.Combine(dir, "status")).First(l => l.StartsWith("PPid:", StringComparison.Ordinal));
                    parents[id] = int.Parse(ppid[5..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
                    // Gone meanwhile.
                }
            }
        }

        var found = new List<int>();
        var queue = new Queue<int>([pid]);
        while (queue.TryDequeue(out var parent))
        {
            foreach (var (child, _) in parents.Where(p => p.Value == parent))
            {
                found.Add(child);
                queue.Enqueue(child);
            }
        }

        return [.. found];
    }
}
