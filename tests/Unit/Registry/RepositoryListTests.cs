using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Layout;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Unit.Registry;

/// <summary>
/// The registry's repository list (<c>GET /v2/_catalog</c>), paged and capped, from a route table at the
/// HttpMessageHandler seam; and the repositories of an OCI layout directory.
/// </summary>
public class RepositoryListTests
{
    private const string Registry = "https://registry.test";

    private static RegistryClient Client(RouteHandler routes) =>
        new(new HttpClient(routes), new Uri(Registry), new UpstreamTimeouts(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10)), TimeProvider.System, NullLogger<RegistryClient>.Instance);

    private static Func<HttpRequestMessage, HttpResponseMessage> Page(string names, string? link = null) => _ =>
    {
        var response = RouteHandler.Json($$"""{"repositories":[{{names}}]}""");
        if (link is not null)
        {
            response.Headers.TryAddWithoutValidation("Link", link);
        }

        return response;
    };

    [Fact]
    public async Task ListRepositoriesAsync_Pages_FollowsLinksDropsInvalidNames()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/_catalog?n=100", Page("\"a\",\"sysexts/b\"", "</v2/_catalog?last=sysexts%2Fb&n=100>; rel=\"next\""))
            .On(HttpMethod.Get, $"{Registry}/v2/_catalog?last=sysexts%2Fb&n=100", Page("\"<script>\",\"Upper\",\"c\""));

        var list = await Client(routes).ListRepositoriesAsync(1000);

        Assert.Equal(["a", "c", "sysexts/b"], list.Repositories);
        Assert.False(list.Truncated);
    }

    [Fact]
    public async Task ListRepositoriesAsync_MoreThanMax_CutAndTruncated()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/_catalog?n=2", Page("\"a\",\"b\"", "</v2/_catalog?last=b&n=2>; rel=\"next\""));

        var list = await Client(routes).ListRepositoriesAsync(2);

        Assert.Equal(["a", "b"], list.Repositories);
        Assert.True(list.Truncated);
        Assert.Single(routes.Requests);
    }

    [Fact]
    public async Task ListRepositoriesAsync_SelfPagingLink_StopsAtOnceIncomplete()
    {
        var routes = new RouteHandler().On(HttpMethod.Get, $"{Registry}/v2/_catalog?n=100", Page("\"a\"", "</v2/_catalog?n=100>; rel=\"next\""));

        var list = await Client(routes).ListRepositoriesAsync(1000);

        Assert.Equal(["a"], list.Repositories);
        Assert.True(list.Incomplete);
        Assert.Single(routes.Requests);
    }

    [Fact]
    public async Task ListRepositoriesAsync_Oversized_InvalidResponse()
    {
        var huge = string.Join(',', Enumerable.Repeat("\"" + new string('a', 200) + "\"", 6000));
        var routes = new RouteHandler().On(HttpMethod.Get, $"{Registry}/v2/_catalog?n=100", Page(huge));

        var e = await Assert.ThrowsAsync<RegistryException>(() => Client(routes).ListRepositoriesAsync(1000));

        Assert.Equal(RegistryFailure.InvalidResponse, e.Failure);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound, RegistryFailure.NotFound)]
    [InlineData(HttpStatusCode.Unauthorized, RegistryFailure.Denied)]
    [InlineData(HttpStatusCode.MethodNotAllowed, RegistryFailure.InvalidResponse)]
    public async Task ListRepositoriesAsync_Refused_TypedFailure(HttpStatusCode status, RegistryFailure failure)
    {
        var routes = new RouteHandler().On(HttpMethod.Get, $"{Registry}/v2/_catalog?n=100", _ => RouteHandler.Json("""{"errors":[{"code":"UNSUPPORTED"}]}""", status));

        var e = await Assert.ThrowsAsync<RegistryException>(() => Client(routes).ListRepositoriesAsync(1000));

        Assert.Equal(failure, e.Failure);
    }

    [Fact]
    public async Task Layout_ListRepositoriesAsync_NestedLayoutsNotBlobsNotInvalidNames()
    {
        using var root = new TempDirectory();
        new OciLayoutWriter(root.CreateDirectory("hello")).AddOrasArtifact("v1", "hello.raw", [1]);
        new OciLayoutWriter(root.CreateDirectory("sysexts", "tools", "jq")).AddOrasArtifact("v1", "jq.raw", [2]);
        new OciLayoutWriter(root.CreateDirectory("Upper")).AddOrasArtifact("v1", "u.raw", [3]);
        // A stray index.json inside a layout's blobs is no repository.
        await File.WriteAllTextAsync(Path.Combine(root.CreateDirectory("hello", "blobs", "x"), "index.json"), "{}");
        root.CreateDirectory("empty", "dir");

        var list = await new OciLayoutSource(root.Path, UpstreamTimeouts.Default, NullLogger<OciLayoutSource>.Instance).ListRepositoriesAsync(1000);
        var capped = await new OciLayoutSource(root.Path, UpstreamTimeouts.Default, NullLogger<OciLayoutSource>.Instance).ListRepositoriesAsync(1);

        Assert.Equal(["hello", "sysexts/tools/jq"], list.Repositories);
        Assert.False(list.Truncated);
        Assert.Single(capped.Repositories);
        Assert.True(capped.Truncated);
    }
}
