using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SysextFunctions.Rollouts;
using SysextFunctions.Tests.Integration.Service.Trust;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Rollouts;

/// <summary>
/// Phased rollouts through the standalone host in front of the real registry: per-machine SHA256SUMS, a policy
/// pushed with the real <c>oras</c> (halt, promote), an unsigned policy with cosign keys, and bad machine keys.
/// The server's clock is a <see cref="FakeTimeProvider"/>; listings are not cached (<c>Cache:ChecksumsTtl=0</c>), so
/// a pushed policy shows at the next request, as it would within one listing's time to live.
/// </summary>
[Collection(RegistryCollection.Name)]
public class RolloutRegistryTests(RegistryServer registry, CosignKeysFixture keys) : IClassFixture<CosignKeysFixture>
{
    private static readonly IReadOnlyList<string> Machines = [.. Enumerable.Range(0, 40).Select(i => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)))[..32])];

    private readonly OciPusher _pusher = new(registry.Url);
    private readonly Oras _oras = new(registry.Url);

    /// <summary>v1 published days ago (complete), v2 pushed now with the real oras (its created date is now): in progress.</summary>
    private async Task<(byte[] V1, byte[] V2)> PushVersionsAsync(string repository)
    {
        var name = repository[(repository.LastIndexOf('/') + 1)..];
        var v1 = Payloads.Random(2000, 181);
        var v2 = Payloads.Random(2000, 182);
        await _pusher.PushOrasArtifactAsync(repository, "v1", $"{name}-v1.raw", v1);
        await _oras.PushAsync(repository, "v2", $"{name}-v2.raw", v2);
        return (v1, v2);
    }

    private Task<string> PushPolicyAsync(string repository, string json) =>
        _oras.PushAsync(repository, RolloutPolicy.Tag, "rollout.json", Encoding.UTF8.GetBytes(json), mediaType: RolloutPolicy.MediaType);

    private static async Task<ProxyServer> StartAsync(Uri registry, FakeTimeProvider time, Dictionary<string, string?>? settings = null)
    {
        settings ??= [];
        settings["Cache:ChecksumsTtl"] = "00:00:00";
        settings["Proxy:BlobDelivery"] = "stream";
        settings.TryAdd("Rollout:Steps", "50%@0h,100%@2d");
        settings["Rollout:MachineKeySecret"] = "rollout-tests";
        return await ProxyServer.StartAsync(registry, settings, builder => builder.Services.AddSingleton<TimeProvider>(time));
    }

    private static async Task<HashSet<string>> OfferedAsync(HttpClient client, string repository, string file)
    {
        var offered = new HashSet<string>();
        foreach (var machine in Machines)
        {
            using var response = await client.GetAsync($"/_m/{machine}/{repository}/SHA256SUMS");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(response.Headers.CacheControl!.Private, $"Cache-Control: {response.Headers.CacheControl}");
            Assert.False(response.Headers.CacheControl.Public);
            if ((await response.Content.ReadAsStringAsync()).Contains(file, StringComparison.Ordinal))
            {
                offered.Add(machine);
            }
        }

        return offered;
    }

    [Fact]
    public async Task Checksums_PerMachine_SplitHaltedThenPromotedByOrasPolicy()
    {
        const string repository = "rollout/split/app";
        var (v1, v2) = await PushVersionsAsync(repository);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(1));
        await using var proxy = await StartAsync(registry.Url, time);
        using var client = proxy.CreateClient();

        var offered = await OfferedAsync(client, repository, "app-v2.raw");
        Assert.InRange(offered.Count, 8, 32);
        var all = await client.GetStringAsync($"/_m/{Machines[0]}/{repository}/SHA256SUMS");
        Assert.Contains("app-v1.raw", all, StringComparison.Ordinal);
        // The plain path keeps today's behaviour; files are downloadable by name, offered or not.
        Assert.Contains("app-v2.raw", await client.GetStringAsync($"/{repository}/SHA256SUMS"), StringComparison.Ordinal);
        var notOffered = Machines.First(m => !offered.Contains(m));
        Assert.Equal(v2, await client.GetByteArrayAsync($"/_m/{notOffered}/{repository}/app-v2.raw"));
        Assert.Equal(v1, await client.GetByteArrayAsync($"/_m/{notOffered}/{repository}/app-v1.raw"));

        // Halt with the real oras: a day later, no new machine, those that had it keep it.
        await PushPolicyAsync(repository, "{\"versions\": {\"v2\": {\"pauses\": [{\"from\": \"" + time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) + "\"}]}}}");
        time.Advance(TimeSpan.FromDays(3));
        Assert.Equal(offered, await OfferedAsync(client, repository, "app-v2.raw"));
        using (var json = JsonDocument.Parse(await GetJsonAsync(client, $"/{repository}/")))
        {
            Assert.Equal("ok", json.RootElement.GetProperty("rolloutPolicy").GetString());
            var state = json.RootElement.GetProperty("versions").EnumerateArray().Single(v => v.GetProperty("version").GetString() == "v2");
            Assert.True(state.GetProperty("phased").GetBoolean());
            Assert.True(state.GetProperty("halted").GetBoolean());
            Assert.Equal(0.5, state.GetProperty("share").GetDouble());
            Assert.Equal(1, state.GetProperty("nextStep").GetProperty("share").GetDouble());
        }

        // Promote: every machine.
        await PushPolicyAsync(repository, """{"versions": {"v2": {"promote": true}}}""");
        Assert.Equal(Machines.Count, (await OfferedAsync(client, repository, "app-v2.raw")).Count);
        Assert.DoesNotContain("_rollout", await client.GetStringAsync($"/{repository}/SHA256SUMS"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checksums_SecondServerProcess_SameMachinesSameLists()
    {
        const string repository = "rollout/same/app";
        await PushVersionsAsync(repository);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(1));
        HashSet<string> first, second;
        await using (var proxy = await StartAsync(registry.Url, time))
        {
            using var client = proxy.CreateClient();
            first = await OfferedAsync(client, repository, "app-v2.raw");
        }

        await using (var proxy = await StartAsync(registry.Url, time))
        {
            using var client = proxy.CreateClient();
            second = await OfferedAsync(client, repository, "app-v2.raw");
        }

        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Transfer_Phased_MachineScopedPathWithSpecifier()
    {
        const string repository = "rollout/transfer/app";
        await PushVersionsAsync(repository);
        await using var proxy = await StartAsync(registry.Url, new FakeTimeProvider(DateTimeOffset.UtcNow));
        using var client = proxy.CreateClient();

        var transfer = await client.GetStringAsync($"/{repository}/app.transfer");
        Assert.Contains($"Path={proxy.Url.AbsoluteUri}_m/%m/{repository}\n", transfer, StringComparison.Ordinal);
        // The same definition however it was reached, never with the key it was reached with.
        var scoped = await client.GetStringAsync($"/_m/{Machines[0]}/{repository}/app.transfer");
        Assert.Equal(transfer, scoped);
        var page = await GetPageAsync(client, $"/{repository}/");
        Assert.Contains("_m/%m/" + repository, page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checksums_NoSchedule_MachineScopedAnswersAsPlain()
    {
        const string repository = "rollout/none/app";
        await PushVersionsAsync(repository);
        await using var proxy = await StartAsync(registry.Url, new FakeTimeProvider(DateTimeOffset.UtcNow), new() { ["Rollout:Steps"] = "" });
        using var client = proxy.CreateClient();

        var plain = await client.GetStringAsync($"/{repository}/SHA256SUMS");
        foreach (var machine in Machines.Take(5))
        {
            Assert.Equal(plain, await client.GetStringAsync($"/_m/{machine}/{repository}/SHA256SUMS"));
        }

        Assert.DoesNotContain("%m", await client.GetStringAsync($"/{repository}/app.transfer"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policy_UnsignedWithCosignKeys_RolloutFrozenAndReported()
    {
        const string repository = "rollout/unsigned/app";
        var name = "app";
        var v1 = await _pusher.PushOrasArtifactAsync(repository, "v1", $"{name}-v1.raw", Payloads.Random(500, 183));
        var v2Digest = await _oras.PushAsync(repository, "v2", $"{name}-v2.raw", Payloads.Random(500, 184));
        await keys.Publisher.SignAsync(3, registry.Url, repository, v1.ManifestDigest);
        await keys.Publisher.SignAsync(3, registry.Url, repository, v2Digest);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(1));
        await using var proxy = await StartAsync(registry.Url, time, new() { ["Trust:CosignKeys:0"] = keys.Publisher.PublicKey });
        using var client = proxy.CreateClient();
        var before = await OfferedAsync(client, repository, "app-v2.raw");

        // Promoted by a policy nobody signed: refused, v2 frozen where it stood.
        await PushPolicyAsync(repository, """{"versions": {"v2": {"promote": true}}}""");
        Assert.Equal(before, await OfferedAsync(client, repository, "app-v2.raw"));
        time.Advance(TimeSpan.FromDays(3));
        Assert.Equal(before, await OfferedAsync(client, repository, "app-v2.raw"));
        using (var json = JsonDocument.Parse(await GetJsonAsync(client, $"/{repository}/")))
        {
            Assert.Contains("not signed by a configured cosign key", json.RootElement.GetProperty("rolloutPolicy").GetString(), StringComparison.Ordinal);
        }

        Assert.Contains("Policy (<code>_rollout</code>): <span class=\"badge no\">refused</span>", await GetPageAsync(client, $"/{repository}/"), StringComparison.Ordinal);
        Assert.Contains(proxy.Log.GetSnapshot().Select(r => r.Message), line => line.Contains("Rollout policy of rollout/unsigned/app refused", StringComparison.Ordinal));

        // Signed, it takes effect once the unsigned verdict on its digest is due for a recheck (Trust:UnsignedRecheck).
        var policy = await PushPolicyAsync(repository, """{"versions": {"v2": {"promote": true}}}""");
        await keys.Publisher.SignAsync(3, registry.Url, repository, policy);
        time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(Machines.Count, (await OfferedAsync(client, repository, "app-v2.raw")).Count);
    }

    [Theory]
    [InlineData("/_m//rollout/bad/app/SHA256SUMS")]
    [InlineData("/_m/0123456789abcdef0123456789abcdef")]
    [InlineData("/_m/0123456789abcdef0123456789abcdef/")]
    [InlineData("/_m/0123456789abcdef0123456789abcdef//app/SHA256SUMS")]
    [InlineData("/_m/0123456789abcdef0123456789abcdef/rollout//app/SHA256SUMS")]
    [InlineData("/_m/short/rollout/bad/app/SHA256SUMS")]
    [InlineData("/_m/0123456789abcdef:0123456789abcdef/rollout/bad/app/SHA256SUMS")]
    [InlineData("/_m/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0/rollout/bad/app/SHA256SUMS")]
    public async Task Request_MalformedMachinePath_400WithoutTheKey(string target)
    {
        await using var proxy = await StartAsync(registry.Url, new FakeTimeProvider(DateTimeOffset.UtcNow));
        var response = await RawHttp.SendAsync(proxy.Url, target);
        Assert.Equal(400, response.Status);
        var key = target.Split('/')[2];
        if (key.Length > 0)
        {
            Assert.DoesNotContain(key, response.Body, StringComparison.Ordinal);
        }
    }

    private static async Task<string> GetJsonAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task<string> GetPageAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/html");
        using var response = await client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }
}
