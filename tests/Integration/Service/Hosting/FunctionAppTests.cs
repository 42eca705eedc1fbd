using System.Diagnostics;
using System.Text.Json;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Hosting;

/// <summary>
/// What <c>func start</c> and the Azure Functions host read, checked without Core Tools: the build's
/// <c>functions.metadata</c>, <c>host.json</c> and the sample local settings.
/// </summary>
public class FunctionAppTests
{
    private static JsonElement ReadJson(string path)
    {
        Assert.True(File.Exists(path), $"{path} does not exist");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    }

    [Fact]
    public void FunctionsMetadata_Build_OneAnonymousCatchAllHttpTriggerForEveryMethod()
    {
        var metadata = ReadJson(Path.Combine(RepoPaths.FunctionsOutput, "functions.metadata"));

        var function = Assert.Single(metadata.EnumerateArray());
        Assert.Equal("SysextFunction", function.GetProperty("name").GetString());
        Assert.Equal("dotnet-isolated", function.GetProperty("language").GetString());
        Assert.Equal("SysextFunctions.dll", function.GetProperty("scriptFile").GetString());
        var trigger = Assert.Single(function.GetProperty("bindings").EnumerateArray(), b => b.GetProperty("direction").GetString() == "In");
        Assert.Equal("httpTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal("anonymous", trigger.GetProperty("authLevel").GetString(), ignoreCase: true);
        // No methods: every method reaches the handler, which answers 405 for all but GET and HEAD.
        Assert.False(trigger.TryGetProperty("methods", out var methods) && methods.ValueKind != JsonValueKind.Null, $"methods: {methods}");
        Assert.Equal("{*path}", trigger.GetProperty("route").GetString());
    }

    [Fact]
    public void HostJson_BuildOutputAndRoot_EmptyRoutePrefixTimeoutSampling()
    {
        var root = ReadJson(Path.Combine(RepoPaths.Root, "host.json"));
        // The build links the top-level host.json into the output, which is where `func start` and Azure read it.
        Assert.Equal(root.GetRawText(), ReadJson(Path.Combine(RepoPaths.FunctionsOutput, "host.json")).GetRawText());

        Assert.Equal("2.0", root.GetProperty("version").GetString());
        Assert.Equal("", root.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
        Assert.Equal(TimeSpan.FromHours(1), TimeSpan.Parse(root.GetProperty("functionTimeout").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        var logging = root.GetProperty("logging");
        Assert.Equal("Warning", logging.GetProperty("logLevel").GetProperty("default").GetString());
        Assert.Equal("Information", logging.GetProperty("logLevel").GetProperty("Host.Results").GetString());
        var sampling = logging.GetProperty("applicationInsights").GetProperty("samplingSettings");
        Assert.True(sampling.GetProperty("isEnabled").GetBoolean());
        // Requests are never sampled away: each one is a download someone may need to find.
        Assert.Contains("Request", sampling.GetProperty("excludedTypes").GetString()!.Split(';'));
    }

    [Fact]
    public void LocalSettingsSample_Parses_WorkerRuntimePortAndRegistry()
    {
        var sample = ReadJson(Path.Combine(RepoPaths.Root, "local.settings.sample.json"));

        Assert.False(sample.GetProperty("IsEncrypted").GetBoolean());
        var values = sample.GetProperty("Values");
        Assert.Equal("dotnet-isolated", values.GetProperty("FUNCTIONS_WORKER_RUNTIME").GetString());
        Assert.Equal("UseDevelopmentStorage=true", values.GetProperty("AzureWebJobsStorage").GetString());
        Assert.Equal("http://localhost:5000", values.GetProperty("Registry__Url").GetString());
        Assert.Equal("auto", values.GetProperty("Proxy__BlobDelivery").GetString());
        Assert.Equal(5001, sample.GetProperty("Host").GetProperty("LocalHttpPort").GetInt32());
        // Every value is a string: the Functions host rejects anything else in Values.
        Assert.All(values.EnumerateObject(), v => Assert.Equal(JsonValueKind.String, v.Value.ValueKind));
    }

    [Fact]
    public async Task LocalSettings_InProjectDirectory_GitIgnored()
    {
        var run = await ChildProcess.RunAsync(new ProcessStartInfo("git", ["check-ignore", "--no-index", "-q", "src/Functions/local.settings.json"])
        {
            WorkingDirectory = RepoPaths.Root,
        }, TimeSpan.FromMinutes(1));

        // 0: ignored; 1: not ignored; anything else: git failed.
        Assert.True(run.ExitCode == 0, run.ToString());
    }
}
