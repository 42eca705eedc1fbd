using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SysextFunctions.Hosting;
using SysextFunctions.Http;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Unit.Service.Hosting;

/// <summary>
/// The catalogue under the Functions hosting, checked without Core Tools: the trigger's route as the build writes it
/// into functions.metadata takes a trailing slash (ASP.NET Core's template matcher, which the host's routing uses),
/// and the handler reads the catalogue path from the request path when there is no raw target, as a worker
/// request may have none.
/// </summary>
public class FunctionsCatalogueRouteTests
{
    private static string FunctionsRoute()
    {
        var metadata = Path.Combine(RepoPaths.FunctionsOutput, "functions.metadata");
        using var json = JsonDocument.Parse(File.ReadAllText(metadata));
        return json.RootElement[0].GetProperty("bindings").EnumerateArray()
            .Single(b => b.GetProperty("direction").GetString() == "In").GetProperty("route").GetString()!;
    }

    [Theory]
    [InlineData("/sysexts/hello/", "sysexts/hello/")]
    [InlineData("/hello/", "hello/")]
    [InlineData("/sysexts/hello/hello.transfer", "sysexts/hello/hello.transfer")]
    public void FunctionsRoute_TrailingSlash_MatchedAndKept(string path, string captured)
    {
        var matcher = new TemplateMatcher(TemplateParser.Parse(FunctionsRoute()), new RouteValueDictionary());
        var values = new RouteValueDictionary();

        Assert.True(matcher.TryMatch(path, values));
        Assert.Equal(captured, values["path"]);
    }

    [Fact]
    public async Task Handler_NoRawTarget_CatalogueFromRequestPath()
    {
        using var root = new TempDirectory();
        new OciLayoutWriter(root.CreateDirectory("sysexts", "hello")).AddOrasArtifact("v1", "hello-v1.raw", [1, 2, 3]);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Registry:Layout"] = root.Path }).Build();
        var services = new ServiceCollection().AddLogging().AddSysextProxy(configuration).BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = "GET";
        context.Request.Path = "/sysexts/hello/";
        context.Request.Headers.Accept = "application/json";
        context.Response.Body = new MemoryStream();

        var result = await services.GetRequiredService<SysextHandler>().HandleAsync(context);
        await result.ExecuteAsync(context);

        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        context.Response.Body.Position = 0;
        using var json = await JsonDocument.ParseAsync(context.Response.Body);
        Assert.Equal("sysexts/hello", json.RootElement.GetProperty("repository").GetString());
        Assert.Equal("hello-v1.raw", Assert.Single(json.RootElement.GetProperty("files").EnumerateArray()).GetProperty("name").GetString());
    }
}
