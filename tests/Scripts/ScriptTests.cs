using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using SysextFunctions.Tests.Infrastructure;

namespace SysextFunctions.Tests.Scripts;

/// <summary>The shell tools the README's commands rely on produce what the service serves.</summary>
[Collection(RegistryCollection.Name)]
public class ScriptTests(RegistryServer registry)
{
    [Fact]
    public async Task OciLayoutScript_LayoutIsServed()
    {
        using var dir = new TempDirectory();
        var v1 = dir.Combine("hello-v1.0-x86-64.raw");
        var v2 = dir.Combine("hello-v1.1-x86-64.raw");
        await File.WriteAllBytesAsync(v1, Payloads.Random(1000, 1));
        await File.WriteAllBytesAsync(v2, Payloads.Random(2000, 2));

        await RunAsync("oci-layout.sh", dir.Combine("layout", "sysexts", "hello"), "v1.0-x86-64", v1, "v1.1-x86-64", v2);

        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?> { ["Registry:Layout"] = dir.Combine("layout") });
        using var client = proxy.CreateClient();
        Assert.Equal(
            $"{Hex(v1)}  hello-v1.0-x86-64.raw\n{Hex(v2)}  hello-v1.1-x86-64.raw\n",
            await client.GetStringAsync("/sysexts/hello/SHA256SUMS"));
        Assert.Equal(await File.ReadAllBytesAsync(v2), await client.GetByteArrayAsync("/sysexts/hello/hello-v1.1-x86-64.raw"));
    }

    [Fact]
    public async Task OciPushScript_PushedFileIsServed()
    {
        using var dir = new TempDirectory();
        var file = dir.Combine("pushed-v2.raw");
        await File.WriteAllBytesAsync(file, Payloads.Random(5000, 3));

        await RunAsync("oci-push.sh", registry.Url.AbsoluteUri.TrimEnd('/'), "scripts/pushed", "v2", file);

        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var client = proxy.CreateClient();
        using var response = await client.GetAsync("/scripts/pushed/SHA256SUMS");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{Hex(file)}  pushed-v2.raw\n", await response.Content.ReadAsStringAsync());
    }

    private static string Hex(string file) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));

    private static async Task RunAsync(string script, params string[] arguments)
    {
        var run = await ChildProcess.RunAsync(new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "scripts", script), .. arguments]));
        Assert.True(run.ExitCode == 0, $"{script} exited {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
    }
}
