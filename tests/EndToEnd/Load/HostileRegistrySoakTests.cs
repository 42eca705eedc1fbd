using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Load;

/// <summary>
/// Bounded soaks (issue 20, items 1 and 4) of what a registry, or clients through it, can make the server hold,
/// measured as RSS growth of the built server as a process of its own (<see cref="ProxyProcess"/>), against fake
/// registries on loopback. The figures are the ones docs/security.md states.
/// </summary>
[Collection(LoadCollection.Name)]
public partial class HostileRegistrySoakTests(ITestOutputHelper output)
{
    private const double MiB = 1024 * 1024;

    /// <summary>
    /// 40,000 requests for distinct unknown repository names against a bearer-token registry: each name is a scope
    /// of its own, so each costs one token request (tokens are cached per scope, docs/registries.md), and what the
    /// server keeps for them is bounded (the token cache by size, each entry until its token expires): RSS grows
    /// at most 32 MiB. On main before issue 20 it grew by 194 MiB and stayed there.
    /// </summary>
    [Fact]
    public async Task UnknownNames_FortyThousandAgainstBearerRegistry_RssGrowthAtMost32MiB()
    {
        const int Names = 40_000;
        // 10,000 names first: the code's first run, its recompilation once hot and the garbage collector's working
        // room for this load (which grew with the warm-up: +38 MiB after 500 names, +26 to +30 after 2,000) are then
        // behind the baseline, and what is measured is what more names cost. A cache that kept every name (the bug:
        // about 5 KiB a name) would still add some 190 MiB over the 40,000.
        const int Warmup = 10_000;
        var tokens = 0;
        var answeredUnknown = 0;
        await using var registry = await HostileRegistry.StartAsync();
        registry.Record = false;
        var realm = new Uri(registry.Url, "/token");
        registry.On("/token", context =>
        {
            var n = Interlocked.Increment(ref tokens);
            return HostileRegistry.Send(context, 200, "application/json", Encoding.UTF8.GetBytes($$"""{"token":"token-{{n}}","expires_in":300}"""));
        });
        registry.Otherwise = context =>
        {
            if (RepositoryPath().Match(context.Request.Path.Value ?? "") is not { Success: true } match)
            {
                return HostileRegistry.Send(context, 404, "application/json", """{"errors":[{"code":"NOT_FOUND","message":"not here"}]}"""u8.ToArray());
            }

            if (!context.Request.Headers.Authorization.ToString().StartsWith("Bearer token-", StringComparison.Ordinal))
            {
                context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{realm}\",service=\"soak\",scope=\"repository:{match.Groups[1].Value}:pull\"";
                return HostileRegistry.Send(context, 401, "application/json", """{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}"""u8.ToArray());
            }

            Interlocked.Increment(ref answeredUnknown);
            return HostileRegistry.Send(context, 404, "application/json", """{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"""u8.ToArray());
        };
        await using var proxy = await ProxyProcess.StartAsync(registry.Url, "--Signing:Key=");
        using var http = new HttpClient { BaseAddress = proxy.Url };

        // Warmed up on names of their own.
        var idle = proxy.Process.RssBytes();
        await RequestAllAsync(http, Enumerable.Range(0, Warmup).Select(i => $"warmup/n{i}"));
        var baseline = proxy.Process.RssBytes();
        var tokensBefore = tokens;

        long peak = baseline;
        var run = RequestAllAsync(http, Enumerable.Range(0, Names).Select(i => $"unknown/n{i:D5}"));
        using (var timer = new PeriodicTimer(TimeSpan.FromSeconds(1)))
        {
            // Sampled while it runs; bounded by the run itself (40,000 requests, at most 16 at a time).
            while (!run.IsCompleted && await timer.WaitForNextTickAsync())
            {
                peak = Math.Max(peak, proxy.Process.RssBytes());
            }
        }

        var statuses = await run;
        var after = proxy.Process.RssBytes();
        peak = Math.Max(peak, after);
        output.WriteLine($"{Names} distinct unknown names: RSS {idle / MiB:F0} MiB idle, {baseline / MiB:F0} MiB after {Warmup} names of warm-up, {peak / MiB:F0} MiB peak (+{(peak - baseline) / MiB:F1} MiB), {after / MiB:F0} MiB after (+{(after - baseline) / MiB:F1} MiB); {tokens - tokensBefore} token requests");

        Assert.Equal([(HttpStatusCode.NotFound, Names)], statuses.GroupBy(s => s).Select(g => (g.Key, g.Count())));
        Assert.Equal(Names, tokens - tokensBefore);
        Assert.Equal(Names + Warmup, answeredUnknown);
        Assert.True(peak - baseline <= 32 * 1024 * 1024, $"grew {(peak - baseline) / MiB:F1} MiB for {Names} distinct unknown names, documented at most 32 MiB");
    }

    /// <summary>
    /// One listing of a registry whose tag list is 40 pages of 4 MB: 55,000 tags of 69 characters each (the issue's
    /// attack), or 31,000 of 128, the longest tag the OCI grammar allows. Refused (a short plain-text 502) once it
    /// has more than <c>Registry:Listing:MaxTags</c> (100,000) tags or <c>Registry:Listing:MaxBytes</c> (8 MiB),
    /// whichever comes first: after two or three pages, and RSS grows at most 64 MiB. Before issue 20 one such
    /// listing took 703 MB; with 32 MiB of pages allowed, the 128-character shape grew by 83 MiB.
    /// </summary>
    [Theory]
    [InlineData(69, 55_000, "more than 100000 entries", 2)]
    [InlineData(128, 31_000, "larger than 8388608 bytes", 3)]
    public async Task TagList_FortyPagesOfFourMegabytes_RefusedRssGrowthAtMost64MiB(int tagLength, int tagsPerPage, string reason, int pagesRead)
    {
        const int Pages = 40;
        var pagesServed = 0;
        await using var registry = await HostileRegistry.StartAsync();
        registry.Record = false;
        registry.On("/v2/huge/tags/list", async context =>
        {
            var page = int.TryParse(context.Request.Query["page"], out var p) ? p : 1;
            Interlocked.Increment(ref pagesServed);
            var body = new StringBuilder(4 * 1024 * 1024 + 64).Append("{\"name\":\"huge\",\"tags\":[");
            for (var i = 0; i < tagsPerPage; i++)
            {
                body.Append(i == 0 ? "\"" : ",\"").Append($"p{page:D2}-{i:D6}".PadRight(tagLength, 'x')).Append('"');
            }

            var bytes = Encoding.UTF8.GetBytes(body.Append("]}").ToString());
            if (page < Pages)
            {
                context.Response.Headers.Link = $"</v2/huge/tags/list?page={page + 1}>; rel=\"next\"";
            }

            await HostileRegistry.Send(context, 200, "application/json", bytes);
        });
        await using var proxy = await ProxyProcess.StartAsync(registry.Url, "--Signing:Key=");
        using var http = new HttpClient { BaseAddress = proxy.Url };
        // The code's first run, on a repository that is not there.
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/absent/SHA256SUMS")).StatusCode);
        var baseline = proxy.Process.RssBytes();

        using var response = await http.GetAsync("/huge/SHA256SUMS");
        var body = await response.Content.ReadAsStringAsync();
        // VmHWM: the peak of the whole process so far, so nothing between samples is missed.
        var peak = proxy.Process.PeakRssBytes();
        output.WriteLine($"40 pages of 4 MB: {(int)response.StatusCode} \"{body.Trim()}\" after {pagesServed} pages; RSS {baseline / MiB:F0} MiB before, peak {peak / MiB:F0} MiB (+{(peak - baseline) / MiB:F1} MiB)");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.True(body.Length < 200, body);
        Assert.DoesNotContain("xxxx", body, StringComparison.Ordinal);
        Assert.Contains(reason, body, StringComparison.Ordinal);
        Assert.Equal(pagesRead, pagesServed);
        Assert.True(peak - baseline <= 64 * 1024 * 1024, $"grew {(peak - baseline) / MiB:F1} MiB for one listing of {Pages} pages of 4 MB, documented at most 64 MiB");
    }

    /// <summary>Every path in <paramref name="paths"/>' <c>SHA256SUMS</c>, at most 16 at a time; the statuses.</summary>
    private static async Task<HttpStatusCode[]> RequestAllAsync(HttpClient http, IEnumerable<string> paths)
    {
        var list = paths.ToList();
        var statuses = new HttpStatusCode[list.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, list.Count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            using var response = await http.GetAsync($"/{list[i]}/SHA256SUMS", ct);
            statuses[i] = response.StatusCode;
        });
        return statuses;
    }

    [GeneratedRegex(@"\A/v2/(.+)/(?:tags/list|manifests/[^/]+)\z")]
    private static partial Regex RepositoryPath();
}
