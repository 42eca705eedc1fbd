using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Upstreams;

/// <summary>The resilience pipeline on the registry client, with faults injected between us and the real registry.</summary>
[Collection(RegistryCollection.Name)]
public class RegistryResilienceTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);

    private static bool IsTags(string target) => target.Contains("/tags/list", StringComparison.Ordinal);

    [Fact]
    public async Task Tags_TwoTransient503s_RetriedAndServed()
    {
        await _pusher.PushOrasArtifactAsync("resilience/retry", "v1", "retry.raw", [1, 2, 3]);
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        relay.Applies = IsTags;
        relay.Fault = Fault.Status503;
        relay.Times = 2;
        await using var proxy = await ProxyServer.StartAsync(relay.Url);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/resilience/retry/SHA256SUMS");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, relay.Requests.Count(IsTags));
    }

    [Fact]
    public async Task Tags_Throttled_503WithRetryAfterAndNoRetry()
    {
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        relay.Fault = Fault.Status429;
        await using var proxy = await ProxyServer.StartAsync(relay.Url);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/resilience/throttled/SHA256SUMS");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
        Assert.Single(relay.Requests);
    }

    [Fact]
    public async Task Tags_Stalled_AttemptTimeoutThen504()
    {
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        relay.Fault = Fault.Stall;
        await using var proxy = await ProxyServer.StartAsync(relay.Url, new Dictionary<string, string?>
        {
            ["Registry:Timeout"] = "00:00:20",
            ["Registry:Resilience:AttemptTimeout"] = "00:00:00.500",
            ["Registry:Resilience:MaxRetries"] = "1",
        });
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/resilience/stalled/SHA256SUMS");

        // Two attempts, each given up on after AttemptTimeout: the 20 s overall timeout was not what ended it.
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(2, relay.Requests.Count);
    }

    [Fact]
    public async Task Circuit_RepeatedFailures_OpensWith503ThenRecovers()
    {
        await _pusher.PushOrasArtifactAsync("resilience/circuit", "v1", "circuit.raw", [4]);
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        relay.Fault = Fault.Status500;
        // The breaker's clock (Polly takes the container's TimeProvider): the break ends when the test says.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var proxy = await ProxyServer.StartAsync(
            relay.Url,
            new Dictionary<string, string?>
            {
                ["Registry:Resilience:MaxRetries"] = "0",
                ["Registry:Resilience:MinimumThroughput"] = "4",
                ["Registry:Resilience:BreakDuration"] = "00:00:02",
            },
            builder => builder.Services.AddSingleton<TimeProvider>(clock));
        using var client = proxy.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var response = await client.GetAsync("/resilience/circuit/SHA256SUMS");
            statuses.Add(response.StatusCode);
        }

        var reachedRegistry = relay.Requests.Count;
        using (var open = await client.GetAsync("/resilience/circuit/SHA256SUMS"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, open.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(2), open.Headers.RetryAfter?.Delta);
        }

        Assert.Equal(reachedRegistry, relay.Requests.Count);
        Assert.Equal([HttpStatusCode.BadGateway, HttpStatusCode.BadGateway, HttpStatusCode.BadGateway, HttpStatusCode.BadGateway], statuses.Take(4));
        Assert.Contains(HttpStatusCode.ServiceUnavailable, statuses);

        relay.Fault = Fault.None;
        clock.Advance(TimeSpan.FromSeconds(2.5));
        using var recovered = await client.GetAsync("/resilience/circuit/SHA256SUMS");
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
    }

    [Fact]
    public async Task Blob_SlowerThanEveryTimeout_DeliveredWhole()
    {
        // 384 KiB at 16 KiB per 200 ms takes ~4.8 s: longer than the attempt timeout and the 2 s timeout, which
        // limits only silence. Filling one 256 KiB send buffer alone takes 3.2 s, so a countdown that ran across a
        // whole fill, instead of restarting with every read, would cut this steady upstream off.
        var content = Payloads.Random(384 * 1024, 11);
        await _pusher.PushOrasArtifactAsync("resilience/slow", "v1", "slow.raw", content);
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        relay.Applies = target => target.Contains("/blobs/", StringComparison.Ordinal);
        relay.Fault = Fault.Slow;
        relay.Trickle = (16 * 1024, TimeSpan.FromMilliseconds(200));
        await using var proxy = await ProxyServer.StartAsync(relay.Url, new Dictionary<string, string?>
        {
            ["Proxy:BlobDelivery"] = "stream",
            ["Registry:Timeout"] = "00:00:02",
            ["Registry:Resilience:AttemptTimeout"] = "00:00:00.300",
        });
        using var client = proxy.CreateClient();

        var body = await client.GetByteArrayAsync("/resilience/slow/slow-v1.raw").ExplainedBy(proxy);

        // 24 trickles with a 200 ms pause after each: the blob took far longer than the 2 s timeout.
        Assert.True(relay.Pauses >= 24, $"{relay.Pauses} pauses");
        Assert.Equal(content, body);
        Assert.Single(relay.Requests, r => r.Contains("/blobs/", StringComparison.Ordinal));
    }
}
