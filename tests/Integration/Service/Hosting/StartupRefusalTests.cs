using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Hosting;

/// <summary>
/// Each bad setting stops the start with one line naming it (issue 19 item 3, issue 20 item 12), exit code 78 and no
/// stack trace: the built server as a process of its own, and the built worker under the Functions host emulator.
/// </summary>
public class StartupRefusalTests
{
    /// <summary>Setting, bad value, what the one line must name.</summary>
    public static TheoryData<string, string, string> Table => new()
    {
        { "Proxy:BlobDelivery", "bogus", "Proxy:BlobDelivery" },
        { "Proxy:PublicUrl", "ftp://updates.example/", "Proxy:PublicUrl" },
        { "Proxy:TrustedProxies:0", "not-an-address", "Proxy:TrustedProxies" },
        { "AllowedHosts", "evil\u0007.example", "AllowedHosts" },
        { "Registry:Url", "http://user:secret@registry.example", "Registry:Url must not contain credentials" },
        { "Registry:Timeout", "-00:00:01", "Registry:Timeout" },
        { "Registry:Resilience:FailureRatio", "5", "Registry:Resilience:FailureRatio" },
        { "Registry:Resilience:MinimumThroughput", "1", "Registry:Resilience:MinimumThroughput" },
        { "Registry:Resilience:BreakDuration", "00:00:00", "Registry:Resilience:BreakDuration" },
        { "Registry:Resilience:MaxRetries", "-1", "Registry:Resilience:MaxRetries" },
        { "Cache:ChecksumsTtl", "-00:00:01", "Cache:ChecksumsTtl" },
        { "Cache:ResolveParallelism", "0", "Cache:ResolveParallelism" },
        { "Cache:TagRecheck", "soon", "Cache:TagRecheck" },
        { "Mappings:0:Path", "UPPER", "Mappings:0" },
        { "Trust:CosignKeys:0", "/nonexistent/cosign.pub", "Trust:CosignKeys" },
        { "Signing:KeyFile", "/nonexistent/key.asc", "/nonexistent/key.asc" },
    };

    /// <summary>Only the standalone host has Kestrel's limits.</summary>
    public static TheoryData<string, string, string> StandaloneOnly => new()
    {
        { "Kestrel:Limits:MaxConcurrentConnections", "0", "Kestrel:Limits:MaxConcurrentConnections" },
        { "Kestrel:Limits:MaxResponseBufferSize", "10", "Kestrel:Limits:MaxResponseBufferSize" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    [MemberData(nameof(StandaloneOnly))]
    public async Task Standalone_BadSetting_RefusesToStartWithOneLine(string setting, string value, string named)
    {
        var dll = Path.Combine(RepoPaths.FunctionsOutput, "SysextFunctions.dll");
        ChildProcess.Require(dll);
        var start = new System.Diagnostics.ProcessStartInfo("dotnet", [dll, $"--urls=http://127.0.0.1:{FreePort.Next()}", $"--{setting}={value}"]);
        start.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        start.Environment.Remove("APPLICATIONINSIGHTS_CONNECTION_STRING");

        var run = await ChildProcess.RunAsync(start, TimeSpan.FromSeconds(60));

        Assert.True(run.ExitCode == 78, run.ToString());
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("sysext-functions: configuration: ", line, StringComparison.Ordinal);
        Assert.Contains(named, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr + run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", run.Stderr + run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", run.Stderr + run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Table))]
    public async Task FunctionsHost_BadSetting_WorkerRefusesToStart(string setting, string value, string named)
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var server = await FunctionsHostServer.StartAsync(new Uri("http://127.0.0.1:1"), new Dictionary<string, string?> { [setting] = value });
        });

        Assert.Contains("exited with 78", e.Message, StringComparison.Ordinal);
        Assert.Contains("sysext-functions: configuration: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", e.Message, StringComparison.Ordinal);
    }
}
