using System.Collections.Concurrent;
using System.Net;
using SysextFunctions.Tests.Support;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Tests.Unit.Service.Upstreams;

/// <summary>
/// The resilience pipeline as the one owner of retries, through the whole composition against an in-memory registry
/// on a fake clock: push-back (429, 503) honours <c>Retry-After</c>, is retried a bounded number of times and never
/// opens a circuit; real failures do, but only for the repository group that fails.
/// </summary>
public class PushBackTests
{
    private readonly FakeRegistry _registry = new();
    private readonly FakeClock _time = new();

    /// <summary>When each GET of a manifest matching <paramref name="path"/> arrived, on the fake clock.</summary>
    private ConcurrentQueue<DateTimeOffset> Answer(string path, Func<HttpResponseMessage?> respond)
    {
        var times = new ConcurrentQueue<DateTimeOffset>();
        _registry.Intercept = request =>
        {
            if (request.Method != HttpMethod.Get || !request.RequestUri!.AbsolutePath.EndsWith(path, StringComparison.Ordinal))
            {
                return null;
            }

            times.Enqueue(_time.GetUtcNow());
            return respond();
        };
        return times;
    }

    private static HttpResponseMessage Busy(int? retryAfter)
    {
        var response = FakeRegistry.Error(HttpStatusCode.ServiceUnavailable, "UNAVAILABLE");
        if (retryAfter is { } seconds)
        {
            response.Headers.RetryAfter = new(TimeSpan.FromSeconds(seconds));
        }

        return response;
    }

    /// <summary>
    /// The reproduction from issue 19: a manifest answering <c>503, Retry-After: 1</c> got 9 GETs in 4.8 s, none
    /// honouring the header, and opened the circuit for every repository of the host for 15 s.
    /// </summary>
    [Fact]
    public async Task Checksums_Manifest503RetryAfter1_RetriedAfterTheDelayThen503AndTheHostStillServes()
    {
        _registry.Push("busy/app", "v1");
        _registry.Push("calm/app", "v1");
        var manifestGets = Answer("/busy/app/manifests/v1", () => Busy(1));
        await using var proxy = new InMemoryProxy(_registry, _time);

        var busy = await proxy.GetAsync("/busy/app/SHA256SUMS");
        var calm = await proxy.GetAsync("/calm/app/SHA256SUMS");

        Assert.Equal(503, busy.StatusCode);
        Assert.Equal("1", busy.Headers.RetryAfter.ToString());
        // One attempt and Registry:Resilience:MaxPushBackRetries (3), each after the second the registry asked for.
        var times = manifestGets.ToArray();
        Assert.Equal(4, times.Length);
        Assert.All(times.Zip(times.Skip(1)), pair => Assert.True(pair.Second - pair.First >= TimeSpan.FromSeconds(1), $"retried after {pair.Second - pair.First}"));
        Assert.Equal(200, calm.StatusCode);
        Assert.Contains("app-v1.raw", calm.BodyText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checksums_TransientPushBack_RetriedAndServed()
    {
        _registry.Push("flaky/app", "v1");
        var answered = 0;
        var gets = Answer("/flaky/app/manifests/v1", () => Interlocked.Increment(ref answered) <= 2 ? Busy(null) : null);
        await using var proxy = new InMemoryProxy(_registry, _time);

        var response = await proxy.GetAsync("/flaky/app/SHA256SUMS");

        Assert.Equal(200, response.StatusCode);
        Assert.Equal(3, gets.Count);
    }

    [Fact]
    public async Task Checksums_RetryAfterLongerThanMaxRetryAfter_NotRetriedAndPassedOn()
    {
        _registry.Push("slow/app", "v1");
        var gets = Answer("/slow/app/manifests/v1", () => Busy(60));
        await using var proxy = new InMemoryProxy(_registry, _time);

        var response = await proxy.GetAsync("/slow/app/SHA256SUMS");

        Assert.Equal(503, response.StatusCode);
        Assert.Equal("60", response.Headers.RetryAfter.ToString());
        Assert.Single(gets);
    }

    [Fact]
    public async Task Circuit_OneRepositoryFailing_OpensForItsGroupOnly()
    {
        _registry.Push("broken/app", "v1");
        _registry.Push("other/app", "v1");
        Answer("/broken/app/manifests/v1", () => FakeRegistry.Error(HttpStatusCode.InternalServerError, "UNKNOWN"));
        await using var proxy = new InMemoryProxy(_registry, _time, new Dictionary<string, string?>
        {
            ["Registry:Resilience:MaxRetries"] = "0",
            ["Registry:Resilience:MinimumThroughput"] = "4",
        });

        var statuses = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((await proxy.GetAsync("/broken/app/SHA256SUMS")).StatusCode);
        }

        var other = await proxy.GetAsync("/other/app/SHA256SUMS");

        Assert.Equal(502, statuses[0]);
        // The breaker opened for broken/app: answered 503 at once, with the break as Retry-After.
        Assert.Equal(503, statuses[^1]);
        Assert.NotEqual(
            RegistryResilience.CircuitGroup(new Uri(FakeRegistry.Url, "v2/broken/app/tags/list")),
            RegistryResilience.CircuitGroup(new Uri(FakeRegistry.Url, "v2/other/app/tags/list")));
        Assert.Equal(200, other.StatusCode);
    }

    [Fact]
    public async Task Checksums_ManifestNotFoundRepeatedly_NeverOpensTheCircuit()
    {
        _registry.Push("gone/app", "v1");
        Answer("/gone/app/manifests/v1", () => FakeRegistry.Error(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN"));
        await using var proxy = new InMemoryProxy(_registry, _time, new Dictionary<string, string?>
        {
            ["Registry:Resilience:MinimumThroughput"] = "2",
        });

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(200, (await proxy.GetAsync("/gone/app/SHA256SUMS")).StatusCode);
        }

        Assert.Equal(10, _registry["GET tags"]);
    }
}
