using System.Net;
using Microsoft.Extensions.Time.Testing;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Remote.Auth;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Unit.Registry.Remote.Auth;

/// <summary>The token cache is keyed by what clients and registries choose: bounded, expiring, and still one fetch per scope.</summary>
public sealed class TokenCacheTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly TokenCache _cache;

    public TokenCacheTests() => _cache = new TokenCache(_time, sizeLimit: 64 * 1024);

    public void Dispose() => _cache.Dispose();

    private static Func<CancellationToken, Task<(string, TimeSpan)>> Issue(string token) =>
        _ => Task.FromResult((token, TimeSpan.FromMinutes(5)));

    [Fact]
    public async Task GetOrFetchAsync_TenThousandDistinctScopes_CountStaysWithinTheSizeLimit()
    {
        var token = new string('t', 1000);

        for (var i = 0; i < 10_000; i++)
        {
            await _cache.GetOrFetchAsync($"bearer repository:unknown-{i:D5}:pull", null, Issue(token));
        }

        // Each entry costs at least 2 × (key + token) bytes plus its overhead: 64 KiB holds fewer than 32.
        Assert.InRange(_cache.Count, 1, 32);
    }

    [Fact]
    public async Task GetOrFetchAsync_TwentyConcurrentCallersOneScope_OneFetch()
    {
        var fetches = 0;
        var release = new TaskCompletionSource<(string, TimeSpan)>(TaskCreationOptions.RunContinuationsAsynchronously);

        var callers = Enumerable.Range(0, 20).Select(_ => _cache.GetOrFetchAsync("bearer repository:tool:pull", null, _ =>
        {
            Interlocked.Increment(ref fetches);
            return release.Task;
        })).ToArray();
        release.SetResult(("shared", TimeSpan.FromMinutes(5)));
        var tokens = await Task.WhenAll(callers);

        Assert.Equal(1, fetches);
        Assert.All(tokens, t => Assert.Equal("shared", t));
    }

    [Fact]
    public async Task Get_AfterExpiry_Null()
    {
        for (var i = 0; i < 100; i++)
        {
            await _cache.GetOrFetchAsync($"bearer repository:r{i}:pull", null, Issue("x"));
        }

        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.All(Enumerable.Range(0, 100), i => Assert.Null(_cache.Get($"bearer repository:r{i}:pull")));
    }

    [Fact]
    public async Task GetOrFetchAsync_Denied_RememberedBrieflyThenAskedAgain()
    {
        var fetches = 0;
        Task<(string, TimeSpan)> Refuse(CancellationToken _)
        {
            fetches++;
            throw new RegistryException(RegistryFailure.Denied, "token service answered 401");
        }

        var first = await Assert.ThrowsAsync<RegistryException>(() => _cache.GetOrFetchAsync("bearer repository:secret:pull", null, Refuse));
        var second = await Assert.ThrowsAsync<RegistryException>(() => _cache.GetOrFetchAsync("bearer repository:secret:pull", null, Refuse));
        var withinLifetime = fetches;
        _time.Advance(TokenCache.FailureLifetime);
        await Assert.ThrowsAsync<RegistryException>(() => _cache.GetOrFetchAsync("bearer repository:secret:pull", null, Refuse));

        Assert.Equal(RegistryFailure.Denied, second.Failure);
        Assert.Equal(first.Message, second.Message);
        Assert.Equal(1, withinLifetime);
        Assert.Equal(2, fetches);
    }

    [Fact]
    public async Task GetOrFetchAsync_Unavailable_NotRemembered()
    {
        var fetches = 0;
        Task<(string, TimeSpan)> Fail(CancellationToken _)
        {
            fetches++;
            throw new RegistryException(RegistryFailure.Unavailable, "token service answered 503");
        }

        await Assert.ThrowsAsync<RegistryException>(() => _cache.GetOrFetchAsync("k", null, Fail));
        await Assert.ThrowsAsync<RegistryException>(() => _cache.GetOrFetchAsync("k", null, Fail));

        // Outages are the resilience pipeline's to retry: a remembered one would answer its retries at once.
        Assert.Equal(2, fetches);
    }

    [Fact]
    public async Task GetOrFetchAsync_FetchingCallerCancelled_WaiterFetchesItself()
    {
        using var cancel = new CancellationTokenSource();
        var fetches = 0;
        var first = _cache.GetOrFetchAsync("k", null, async ct =>
        {
            fetches++;
            // simulates a slow peer: a token fetch that never ends, until its caller cancels it
            await Task.Delay(Timeout.Infinite, ct);
            return ("never", TimeSpan.FromMinutes(1));
        }, cancel.Token);
        var waiter = _cache.GetOrFetchAsync("k", null, _ =>
        {
            fetches++;
            return Task.FromResult(("second", TimeSpan.FromMinutes(1)));
        });

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.Equal("second", await waiter);
        Assert.Equal(2, fetches);
    }

    [Fact]
    public async Task ListTagsAsync_ManyUnknownNamesThroughTheHandler_CacheBoundedAndOneTokenRequestPerName()
    {
        using var cache = new TokenCache(_time, sizeLimit: 32 * 1024);
        var tokenRequests = 0;
        var routes = new RouteHandler();
        for (var i = 0; i < 2_000; i++)
        {
            var name = $"unknown-{i}";
            routes.On(HttpMethod.Get, $"{AuthHandlerTests.Registry}/token?service=registry.test&scope=repository%3A{name}%3Apull", _ => Issued());
            routes.On(HttpMethod.Get, $"{AuthHandlerTests.Registry}/v2/{name}/tags/list?n=100", r => r.Headers.Authorization is null
                ? Challenge($"repository:{name}:pull")
                : RouteHandler.Json("""{"errors":[{"code":"NAME_UNKNOWN"}]}""", HttpStatusCode.NotFound));
        }

        var client = AuthHandlerTests.Client(routes, SysextFunctions.Registry.Remote.Auth.RegistryCredentials.Anonymous, cache);

        for (var i = 0; i < 2_000; i++)
        {
            await Assert.ThrowsAsync<RegistryException>(() => client.ListTagsAsync($"unknown-{i}"));
        }

        Assert.Equal(2_000, tokenRequests);
        Assert.InRange(cache.Count, 1, 32 * 1024 / 256);

        HttpResponseMessage Issued()
        {
            Interlocked.Increment(ref tokenRequests);
            return RouteHandler.Json($$"""{"token":"{{new string('a', 800)}}","expires_in":300}""");
        }
    }

    [Fact]
    public async Task ListTagsAsync_EightConcurrentRequestsOneRepository_OneTokenRequest()
    {
        var tokenRequests = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{AuthHandlerTests.Registry}/token?service=registry.test&scope=repository%3Atool%3Apull", async _ =>
            {
                Interlocked.Increment(ref tokenRequests);
                await release.Task;
                return RouteHandler.Json("""{"token":"shared","expires_in":300}""");
            })
            .On(HttpMethod.Get, $"{AuthHandlerTests.Registry}/v2/tool/tags/list?n=100", r => r.Headers.Authorization?.Parameter == "shared"
                ? RouteHandler.Json("""{"tags":["v1"]}""")
                : Challenge("repository:tool:pull"));
        var client = AuthHandlerTests.Client(routes, SysextFunctions.Registry.Remote.Auth.RegistryCredentials.Anonymous, _cache);

        var listings = Enumerable.Range(0, 8).Select(_ => client.ListTagsAsync("tool")).ToArray();
        release.SetResult();
        var all = await Task.WhenAll(listings);

        Assert.All(all, tags => Assert.Equal(["v1"], tags));
        Assert.Equal(1, tokenRequests);
    }

    internal static HttpResponseMessage Challenge(string scope)
    {
        var challenge = new HttpResponseMessage(HttpStatusCode.Unauthorized);
        challenge.Headers.WwwAuthenticate.ParseAdd($"Bearer realm=\"{AuthHandlerTests.Registry}/token\",service=\"registry.test\",scope=\"{scope}\"");
        return challenge;
    }
}
