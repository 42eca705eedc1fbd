using Microsoft.Extensions.Logging.Abstractions;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Unit.Registry.Remote;

/// <summary>
/// Tag-list paging (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags). Debian's
/// registry 2.8 never pages, so the pages come from a route table at the HttpMessageHandler seam.
/// </summary>
public class TagPagingTests
{
    private const string Registry = "https://registry.test";

    private static RegistryClient Client(RouteHandler routes, string baseAddress = Registry) =>
        new(new HttpClient(routes), new Uri(baseAddress), new UpstreamTimeouts(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10)), TimeProvider.System, NullLogger<RegistryClient>.Instance);

    private static Func<HttpRequestMessage, HttpResponseMessage> Page(string tags, string? link = null) => _ =>
    {
        var response = RouteHandler.Json($$"""{"name":"sysexts/tool","tags":[{{tags}}]}""");
        if (link is not null)
        {
            response.Headers.TryAddWithoutValidation("Link", link);
        }

        return response;
    };

    [Fact]
    public async Task ListTagsAsync_RelativeNextLinks_FollowsToTheEnd()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/tags/list", Page("\"v1\",\"v2\"", "</v2/sysexts/tool/tags/list?n=2&last=v2>; rel=\"next\""))
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/tags/list?n=2&last=v2", Page("\"v3\",\"v4\"", "</v2/sysexts/tool/tags/list?n=2&last=v4>; rel=\"next\""))
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/tags/list?n=2&last=v4", Page("\"v5\""));

        var tags = await Client(routes).ListTagsAsync("sysexts/tool");

        Assert.Equal(["v1", "v2", "v3", "v4", "v5"], tags);
        Assert.Equal(3, routes.Requests.Count);
    }

    [Fact]
    public async Task ListTagsAsync_AbsoluteNextLinkWithAcrQuery_KeepsEveryParameter()
    {
        // ACR's shape: an empty orderby= and the continuation in last=.
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/tags/list", Page("\"a\"", $"<{Registry}/v2/sysexts/tool/tags/list?last=a&n=100&orderby=>; rel=\"next\""))
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/tags/list?last=a&n=100&orderby=", Page("\"b\""));

        var tags = await Client(routes).ListTagsAsync("sysexts/tool");

        Assert.Equal(["a", "b"], tags);
        Assert.Equal("/v2/sysexts/tool/tags/list?last=a&n=100&orderby=", routes.Requests.Last().Uri.PathAndQuery);
    }

    [Fact]
    public async Task ListTagsAsync_RegistryUnderPathPrefix_ResolvesRelativeLinkAgainstPage()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/mirror/v2/tool/tags/list", Page("\"a\"", "</mirror/v2/tool/tags/list?last=a>; rel=\"next\""))
            .On(HttpMethod.Get, $"{Registry}/mirror/v2/tool/tags/list?last=a", Page("\"b\""));

        var tags = await Client(routes, $"{Registry}/mirror").ListTagsAsync("tool");

        Assert.Equal(["a", "b"], tags);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("</v2/sysexts/tool/tags/list?last=z>; rel=\"prev\"")]
    [InlineData("</v2/sysexts/tool/tags/list?last=z>")]
    public async Task ListTagsAsync_NoNextLink_StopsAfterOnePage(string? link)
    {
        var routes = new RouteHandler().On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/tags/list", Page("\"v1\"", link));

        var tags = await Client(routes).ListTagsAsync("sysexts/tool");

        Assert.Equal(["v1"], tags);
        Assert.Single(routes.Requests);
    }

    [Theory]
    [InlineData("<https://elsewhere.test/v2/sysexts/tool/tags/list?last=v1>; rel=\"next\"")]
    [InlineData("<http://registry.test/v2/sysexts/tool/tags/list?last=v1>; rel=\"next\"")]
    [InlineData("<//elsewhere.test/v2/sysexts/tool/tags/list?last=v1>; rel=\"next\"")]
    [InlineData("<file:///etc/passwd>; rel=\"next\"")]
    public async Task ListTagsAsync_NextLinkToAnotherOrigin_ThrowsInvalidResponse(string link)
    {
        var routes = new RouteHandler().On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/tags/list", Page("\"v1\"", link));

        var e = await Assert.ThrowsAsync<RegistryException>(() => Client(routes).ListTagsAsync("sysexts/tool"));

        Assert.Equal(RegistryFailure.InvalidResponse, e.Failure);
        Assert.Single(routes.Requests);
    }

    [Fact]
    public async Task ListTagsAsync_NullTagsOnAPage_CountsAsEmpty()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/tags/list", _ =>
            {
                var response = RouteHandler.Json("""{"name":"sysexts/tool","tags":null}""");
                response.Headers.TryAddWithoutValidation("Link", "</v2/sysexts/tool/tags/list?last=x>; rel=\"next\"");
                return response;
            })
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/tags/list?last=x", Page("\"v9\""));

        var tags = await Client(routes).ListTagsAsync("sysexts/tool");

        Assert.Equal(["v9"], tags);
    }
}
