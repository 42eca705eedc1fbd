using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Tests.Support;
using SysextFunctions.Upstreams.Acr;

namespace SysextFunctions.Tests.Unit.Registry.Remote;

/// <summary>
/// The one paging loop (tags, <c>_catalog</c>, referrers, ACR's <c>_tags</c>) against registries that page by
/// <c>Link</c>, by <c>n</c> without <c>Link</c>, that ignore <c>last</c>, and hostile ones: endless, huge or
/// self-referring pages are refused or stopped, and a listing whose client has gone stops.
/// </summary>
public class ListingPagingTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 9, 0, 0, TimeSpan.Zero));

    private RegistryClient Client(HttpMessageHandler registry, ListingLimits? limits = null) =>
        new(new HttpClient(registry), FakeRegistry.Url, new UpstreamTimeouts(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)), _time, NullLogger<RegistryClient>.Instance)
        {
            Limits = limits ?? ListingLimits.Default,
        };

    private static FakeRegistry WithTags(int count, bool sendsLink)
    {
        var registry = new FakeRegistry { SendsLink = sendsLink };
        for (var i = 0; i < count; i++)
        {
            registry.Push("sysexts/tool", $"v{i:D4}");
        }

        return registry;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ListTagsAsync_250TagsPagedByN_EveryTagInThreeRequests(bool sendsLink)
    {
        var registry = WithTags(250, sendsLink);

        var tags = await Client(registry).ListTagsAsync("sysexts/tool");

        Assert.Equal(Enumerable.Range(0, 250).Select(i => $"v{i:D4}"), tags);
        Assert.Equal(3, registry["GET tags"]);
    }

    [Fact]
    public async Task ListTagsAsync_ExactlyOneFullPageWithoutLink_AsksOnceMoreAndStops()
    {
        var registry = WithTags(RegistryClient.TagPageSize, sendsLink: false);

        var tags = await Client(registry).ListTagsAsync("sysexts/tool");

        Assert.Equal(RegistryClient.TagPageSize, tags.Count);
        Assert.Equal(2, registry["GET tags"]);
    }

    [Theory]
    [InlineData(200)]
    [InlineData(300)]
    public async Task ListTagsAsync_LinkedPagesLastOneFull_NoRequestForAnEmptyPage(int count)
    {
        // A registry that sends Link says where its list ends: a last page of exactly n is not a reason to ask again.
        var registry = WithTags(count, sendsLink: true);

        var tags = await Client(registry).ListTagsAsync("sysexts/tool");

        Assert.Equal(count, tags.Count);
        Assert.Equal((count + RegistryClient.TagPageSize - 1) / RegistryClient.TagPageSize, registry["GET tags"]);
    }

    [Fact]
    public async Task ListTagsAsync_RegistryIgnoresN_EveryTagInOneRequest()
    {
        // Debian's registry 2.8 answers every tag however small n is: more than n is the whole list.
        var registry = WithTags(300, sendsLink: false);
        registry.IgnoresN = true;

        var tags = await Client(registry).ListTagsAsync("sysexts/tool");

        Assert.Equal(300, tags.Count);
        Assert.Equal(1, registry["GET tags"]);
    }

    [Fact]
    public async Task ListTagsAsync_IgnoresLastWithoutLink_StopsAtTheRepeatedPage()
    {
        var registry = WithTags(250, sendsLink: false);
        registry.IgnoresLast = true;

        var tags = await Client(registry).ListTagsAsync("sysexts/tool");

        Assert.Equal(RegistryClient.TagPageSize, tags.Count);
        Assert.Equal(2, registry["GET tags"]);
    }

    [Fact]
    public async Task ListRepositoriesAsync_RandomOrderIgnoresLastNoLink_SortedAndIncomplete()
    {
        var registry = new FakeRegistry { SendsLink = false, IgnoresLast = true, Shuffles = true };
        for (var i = 0; i < 250; i++)
        {
            registry.Create($"repo{i:D3}");
        }

        var list = await Client(registry).ListRepositoriesAsync(1000);

        Assert.True(list.Incomplete);
        Assert.Equal(list.Repositories.Order(StringComparer.Ordinal), list.Repositories);
        Assert.Equal(100, list.Repositories.Count);
        Assert.Equal(2, registry["GET catalog"]);
    }

    [Fact]
    public async Task ListRepositoriesAsync_PagedByNWithoutLink_Complete()
    {
        var registry = new FakeRegistry { SendsLink = false };
        for (var i = 0; i < 250; i++)
        {
            registry.Create($"repo{i:D3}");
        }

        var list = await Client(registry).ListRepositoriesAsync(1000);

        Assert.False(list.Incomplete);
        Assert.False(list.Truncated);
        Assert.Equal(250, list.Repositories.Count);
    }

    /// <summary>A registry that makes up pages: each has <paramref name="tags"/> tags of a 100-character name, and a Link to the next, for ever.</summary>
    private sealed class Endless(int tags, Action<int>? onPage = null, bool selfLink = false, bool sameBody = false) : HttpMessageHandler
    {
        public int Pages;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = Interlocked.Increment(ref Pages);
            onPage?.Invoke(page);
            var body = new StringBuilder("{\"name\":\"sysexts/tool\",\"tags\":[");
            for (var i = 0; i < tags; i++)
            {
                body.Append(i == 0 ? "" : ",").Append('"').Append($"{(sameBody ? 0 : page):D6}-{i:D6}".PadRight(100, 'x')).Append('"');
            }

            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body.Append("]}").ToString(), Encoding.UTF8, "application/json") };
            response.Headers.TryAddWithoutValidation("Link", selfLink ? $"<{request.RequestUri!.PathAndQuery}>; rel=\"next\"" : $"</v2/sysexts/tool/tags/list?page={page + 1}>; rel=\"next\"");
            return Task.FromResult(response);
        }
    }

    /// <summary>Issue 20's hostile registry: 40 pages of ~2.5 MB (25 000 tags of 100 characters) each.</summary>
    [Theory]
    [InlineData(false, "more than 100000 entries", 5)]
    [InlineData(true, "larger than 33554432 bytes", 14)]
    public async Task ListTagsAsync_FortyPagesOfHugeTagLists_RefusedEarly(bool unlimitedTags, string reason, int pages)
    {
        var registry = new Endless(25_000);
        var limits = unlimitedTags ? ListingLimits.Default with { MaxTags = int.MaxValue } : ListingLimits.Default;

        var e = await Assert.ThrowsAsync<RegistryException>(() => Client(registry, limits).ListTagsAsync("sysexts/tool"));

        Assert.Equal(RegistryFailure.InvalidResponse, e.Failure);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Equal(pages, registry.Pages);
    }

    [Fact]
    public async Task ListTagsAsync_MoreTagsThanMaxTags_Refused()
    {
        var registry = new Endless(1000);

        var e = await Assert.ThrowsAsync<RegistryException>(() => Client(registry, new ListingLimits(5000, long.MaxValue, TimeSpan.FromHours(1))).ListTagsAsync("sysexts/tool"));

        Assert.Equal(RegistryFailure.InvalidResponse, e.Failure);
        Assert.Equal(6, registry.Pages);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task ListTagsAsync_SelfPagingLinkLoop_Stops(bool selfLink, bool sameBody)
    {
        var registry = new Endless(3, selfLink: selfLink, sameBody: sameBody);

        var tags = await Client(registry).ListTagsAsync("sysexts/tool");

        Assert.Equal(3, tags.Count);
        Assert.Equal(selfLink ? 1 : 2, registry.Pages);
    }

    [Fact]
    public async Task ListTagsAsync_EndlessSmallPages_GivenUpAfterMaxDuration()
    {
        // Each page takes the registry a second.
        var registry = new Endless(1, onPage: _ => _time.Advance(TimeSpan.FromSeconds(1)));

        var e = await Assert.ThrowsAsync<RegistryException>(() => Client(registry, new ListingLimits(100_000, long.MaxValue, TimeSpan.FromSeconds(30))).ListTagsAsync("sysexts/tool"));

        Assert.Equal(RegistryFailure.Timeout, e.Failure);
        Assert.Equal(31, registry.Pages);
    }

    [Fact]
    public async Task ListTagsAsync_ClientGone_StopsAsking()
    {
        using var gone = new CancellationTokenSource();
        var registry = new Endless(1, onPage: page =>
        {
            if (page == 3)
            {
                gone.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client(registry).ListTagsAsync("sysexts/tool", gone.Token));

        Assert.Equal(3, registry.Pages);
    }

    [Fact]
    public async Task ListTagDigestsAsync_AcrPagesWithoutLink_ContinuesWithLast()
    {
        var acr = new FakeAcrWithoutLink();

        var tags = await new AcrTagListing(Client(acr), NullLogger<AcrTagListing>.Instance).ListTagDigestsAsync("sysexts/tool");

        Assert.Equal(Enumerable.Range(0, 150).Select(i => $"v{i:D3}"), tags.Select(t => t.Name));
        Assert.Equal(2, acr.Pages);
    }

    /// <summary>ACR's <c>_tags</c> honouring <c>n</c> and <c>last</c> but sending no <c>Link</c>.</summary>
    private sealed class FakeAcrWithoutLink : HttpMessageHandler
    {
        public int Pages;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Pages);
            var query = System.Web.HttpUtility.ParseQueryString(request.RequestUri!.Query);
            var n = int.Parse(query["n"]!, System.Globalization.CultureInfo.InvariantCulture);
            var last = query["last"];
            var page = Enumerable.Range(0, 150).Select(i => $"v{i:D3}").Where(t => last is null || string.CompareOrdinal(t, last) > 0).Take(n);
            var body = "{\"tags\":[" + string.Join(",", page.Select(t => $"{{\"name\":\"{t}\",\"digest\":\"{FakeRegistry.Sha256(Encoding.UTF8.GetBytes(t))}\"}}")) + "]}";
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
        }
    }
}
