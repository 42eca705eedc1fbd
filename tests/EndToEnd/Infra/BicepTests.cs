using System.Diagnostics;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Infra;

/// <summary>The Bicep templates build and lint clean with the real Bicep CLI (warnings fail).</summary>
public class BicepTests
{
    [Fact]
    public async Task ValidateInfra_BuildsAndLintsWithoutWarnings()
    {
        var run = await ChildProcess.RunAsync(new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "scripts", "validate-infra.sh")])
        {
            WorkingDirectory = RepoPaths.Root,
        }, TimeSpan.FromMinutes(10));

        Assert.True(run.ExitCode == 0, $"validate-infra.sh exited {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.StartsWith("OK", run.Stdout.Trim().Split('\n')[^1], StringComparison.Ordinal);
    }
}

/// <summary>The compiled template's Front Door option: off by default, one caching route for every path over HTTPS.</summary>
public class FrontDoorTemplateTests
{
    private static IEnumerable<System.Text.Json.JsonElement> Walk(System.Text.Json.JsonElement element)
    {
        yield return element;
        var children = element.ValueKind switch
        {
            System.Text.Json.JsonValueKind.Object => element.EnumerateObject().Select(p => p.Value),
            System.Text.Json.JsonValueKind.Array => element.EnumerateArray(),
            _ => [],
        };
        foreach (var descendant in children.SelectMany(Walk))
        {
            yield return descendant;
        }
    }

    private static bool IsType(System.Text.Json.JsonElement e, string type) =>
        e.ValueKind == System.Text.Json.JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == System.Text.Json.JsonValueKind.String && t.GetString() == type;

    [Fact]
    public async Task MainBicep_FrontDoor_OffByDefaultAndOneCachingRoute()
    {
        var bicep = Path.Combine(RepoPaths.Tools, "bicep", "bicep");
        ChildProcess.Require(bicep);
        var start = new ProcessStartInfo(bicep, ["build", Path.Combine(RepoPaths.Root, "infra", "main.bicep"), "--stdout"]);
        start.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";
        var run = await ChildProcess.RunAsync(start);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var template = System.Text.Json.JsonDocument.Parse(run.Stdout);
        var root = template.RootElement;

        Assert.False(root.GetProperty("parameters").GetProperty("frontDoor").GetProperty("defaultValue").GetBoolean());
        // The module refers to the profile as an existing resource; the one made is in main.bicep.
        var profile = Assert.Single(Walk(root), e => IsType(e, "Microsoft.Cdn/profiles") && !e.TryGetProperty("existing", out _));
        Assert.Equal("[parameters('frontDoor')]", profile.GetProperty("condition").GetString());
        Assert.Equal("Standard_AzureFrontDoor", profile.GetProperty("sku").GetProperty("name").GetString());
        var route = Assert.Single(Walk(root), e => IsType(e, "Microsoft.Cdn/profiles/afdEndpoints/routes")).GetProperty("properties");
        Assert.Equal(["/*"], route.GetProperty("patternsToMatch").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("HttpsOnly", route.GetProperty("forwardingProtocol").GetString());
        Assert.Equal("IgnoreQueryString", route.GetProperty("cacheConfiguration").GetProperty("queryStringCachingBehavior").GetString());
        var origin = Assert.Single(Walk(root), e => IsType(e, "Microsoft.Cdn/profiles/originGroups/origins")).GetProperty("properties");
        Assert.Equal(443, origin.GetProperty("httpsPort").GetInt32());
        Assert.True(root.GetProperty("outputs").TryGetProperty("frontDoorEndpointUrl", out _));
    }
}
