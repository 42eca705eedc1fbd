using System.Diagnostics;
using System.Reflection;
using SysextFunctions.Http;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Server;

/// <summary>
/// The README's run command, <c>dotnet run --project src/Server</c>, starts the standalone server whether or not
/// Azure Functions Core Tools are installed: it never goes through the Worker SDK's <c>func start</c>.
/// </summary>
public class ServerProjectTests
{
    [Fact]
    public async Task DotnetRun_WithoutCoreTools_ServesStandalone()
    {
        var configuration = typeof(ServerProjectTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var start = new ProcessStartInfo("dotnet",
            ["run", "--project", Path.Combine(RepoPaths.Root, "src", "Server"), "-c", configuration, "--no-build", "--", $"--urls={url}", "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information"]);
        // A PATH with dotnet and the basics but surely no Core Tools' `func`.
        start.Environment["PATH"] = $"{Path.GetDirectoryName(Environment.ProcessPath)}:/usr/bin:/bin";
        await using var server = ChildProcess.Start(start, $"Now listening on: {url.AbsoluteUri.TrimEnd('/')}");
        await server.WaitReadyAsync(TimeSpan.FromSeconds(60));

        using var client = new HttpClient { BaseAddress = url };
        Assert.Equal(SysextHandler.Description + "\n", await client.GetStringAsync("/"));
    }
}
