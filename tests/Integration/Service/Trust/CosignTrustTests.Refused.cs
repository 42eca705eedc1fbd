using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Sysupdate;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Trust;

public partial class CosignTrustTests
{
    /// <summary>
    /// A refusal is remembered by digest for Trust:UnsignedRecheck (2 minutes by default): a tag signed meanwhile is
    /// listed once that has passed, not before.
    /// </summary>
    [Fact]
    public async Task Checksums_SignedLater_ListedOnceUnsignedRecheckHasPassed()
    {
        var repository = "trust/later/hello";
        var (image, bytes) = await PushAsync(repository, "v1", 10);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var proxy = await StartProxyAsync([keys.Publisher.PublicKey], clock: clock);
        using var client = proxy.CreateClient();

        var before = await client.GetStringAsync($"/{repository}/SHA256SUMS");
        await keys.Publisher.SignAsync(3, registry.Url, repository, image.ManifestDigest);
        var remembered = await client.GetStringAsync($"/{repository}/SHA256SUMS");
        clock.Advance(TimeSpan.FromMinutes(2));
        var after = await client.GetStringAsync($"/{repository}/SHA256SUMS");

        Assert.Equal(Checksums.NothingLine, before);
        Assert.Equal(Checksums.NothingLine, remembered);
        Assert.Equal($"{Hex(bytes)}  hello-v1.raw\n", after);
    }

    /// <summary>Once verified, a digest costs nothing more: a warm listing asks for no signature, referrer or blob.</summary>
    [Fact]
    public async Task Checksums_WarmListing_AsksForNoSignature()
    {
        var repository = "trust/warm/hello";
        var (v1, _) = await PushAsync(repository, "v1", 11);
        var (v2, _) = await PushAsync(repository, "v2", 12);
        await keys.Publisher.SignAsync(3, registry.Url, repository, v1.ManifestDigest);
        await keys.Publisher.SignAsync(2, registry.Url, repository, v2.ManifestDigest);
        await using var relay = await FaultProxy.StartAsync(registry.Url);
        await using var proxy = await StartProxyAsync([keys.Publisher.PublicKey], registryUrl: relay.Url);
        using var client = proxy.CreateClient();

        var cold = await client.GetStringAsync($"/{repository}/SHA256SUMS");
        var coldRequests = relay.Requests.ToList();
        var warm = await client.GetStringAsync($"/{repository}/SHA256SUMS");
        var warmRequests = relay.Requests.Skip(coldRequests.Count).ToList();

        Assert.Equal(2, cold.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(cold, warm);
        Assert.Contains(coldRequests, r => r.Contains("/blobs/", StringComparison.Ordinal));
        Assert.DoesNotContain(warmRequests, r => r.Contains("sha256-", StringComparison.Ordinal) || r.Contains("/referrers/", StringComparison.Ordinal) || r.Contains("/blobs/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Checksums_MappingKeys_ReplaceTheGlobalKeys()
    {
        var (image, bytes) = await PushAsync("trust/mapped/own/hello", "v1", 13);
        await PushAsync("trust/mapped/global/hello", "v1", 14);
        await keys.Stranger.SignAsync(3, registry.Url, "trust/mapped/own/hello", image.ManifestDigest);
        await using var proxy = await StartProxyAsync([keys.Publisher.PublicKey], settings: new Dictionary<string, string?>
        {
            ["Mappings:0:Path"] = "own/*",
            ["Mappings:0:Repository"] = "trust/mapped/own/*",
            ["Mappings:0:CosignKeys:0"] = keys.Stranger.PublicKey,
            ["Mappings:1:Path"] = "global/*",
            ["Mappings:1:Repository"] = "trust/mapped/global/*",
        });
        using var client = proxy.CreateClient();

        Assert.Equal($"{Hex(bytes)}  hello-v1.raw\n", await client.GetStringAsync("/own/hello/SHA256SUMS"));
        Assert.Equal(Checksums.NothingLine, await client.GetStringAsync("/global/hello/SHA256SUMS"));
    }

    [Fact]
    public async Task Start_PrivateKeyConfigured_FailsToStart()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => StartProxyAsync([keys.Publisher.PrivateKey]));

        Assert.Contains("Trust:CosignKeys:0", e.Message, StringComparison.Ordinal);
        Assert.Contains("private key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MappingKeyFileMissing_FailsToStart()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => StartProxyAsync([], settings: new Dictionary<string, string?>
        {
            ["Mappings:0:Path"] = "*",
            ["Mappings:0:Repository"] = "trust/*",
            ["Mappings:0:CosignKeys:0"] = "/nonexistent/cosign.pub",
        }));

        Assert.Contains("Mappings:0:CosignKeys:0", e.Message, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/cosign.pub", e.Message, StringComparison.Ordinal);
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static string SchemaTag(string digest) => digest.Replace(':', '-');

    private async Task<(PushedImage Image, byte[] Bytes)> PushAsync(string repository, string tag, int seed)
    {
        var bytes = Payloads.Random(1000 + seed, seed);
        return (await _pusher.PushOrasArtifactAsync(repository, tag, "hello.raw", bytes), bytes);
    }

    private async Task<ProxyServer> StartProxyAsync(string[] publicKeys, Uri? registryUrl = null, Dictionary<string, string?>? settings = null, FakeTimeProvider? clock = null)
    {
        settings ??= [];
        settings["Cache:ChecksumsTtl"] = "00:00:00";
        settings["Proxy:BlobDelivery"] = "stream";
        for (var i = 0; i < publicKeys.Length; i++)
        {
            settings[$"Trust:CosignKeys:{i}"] = publicKeys[i];
        }

        return await ProxyServer.StartAsync(registryUrl ?? registry.Url, settings, clock is null ? null : builder => builder.Services.AddSingleton<TimeProvider>(clock));
    }

    private async Task<(byte[] Bytes, string MediaType)> GetManifestAsync(string repository, string reference)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(registry.Url, $"/v2/{repository}/manifests/{reference}"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.OciManifest));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.OciIndex));
        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{reference}: {(int)response.StatusCode}");
        return (await response.Content.ReadAsByteArrayAsync(), response.Content.Headers.ContentType!.MediaType!);
    }

    private async Task<byte[]> GetBlobAsync(string repository, string digest)
    {
        using var http = new HttpClient();
        return await http.GetByteArrayAsync(new Uri(registry.Url, $"/v2/{repository}/blobs/{digest}"));
    }

    /// <summary>cosign 2's signature of <paramref name="signed"/> with its payload made to name <paramref name="target"/>, under target's .sig tag.</summary>
    private async Task ForgeCosign2Async(string repository, string signed, string target)
    {
        var (bytes, mediaType) = await GetManifestAsync(repository, SchemaTag(signed) + ".sig");
        var manifest = JsonNode.Parse(bytes)!;
        var layer = manifest["layers"]![0]!;
        var payload = Encoding.UTF8.GetString(await GetBlobAsync(repository, (string)layer["digest"]!));
        Assert.Contains(signed, payload, StringComparison.Ordinal);
        var forged = Encoding.UTF8.GetBytes(payload.Replace(signed, target, StringComparison.Ordinal));
        layer["digest"] = await _pusher.PushBlobAsync(repository, forged);
        layer["size"] = forged.Length;
        await _pusher.PushManifestAsync(repository, SchemaTag(target) + ".sig", mediaType, Encoding.UTF8.GetBytes(manifest.ToJsonString()));
    }

    /// <summary>cosign 3's bundle for <paramref name="signed"/> with its statement made to name <paramref name="target"/>, as target's referrer.</summary>
    private async Task ForgeCosign3Async(string repository, string signed, string target)
    {
        var (indexBytes, indexType) = await GetManifestAsync(repository, SchemaTag(signed));
        var index = JsonNode.Parse(indexBytes)!;
        var entry = index["manifests"]![0]!;
        var (manifestBytes, manifestType) = await GetManifestAsync(repository, (string)entry["digest"]!);
        var manifest = JsonNode.Parse(manifestBytes)!;
        var layer = manifest["layers"]![0]!;
        var bundle = JsonNode.Parse(await GetBlobAsync(repository, (string)layer["digest"]!))!;
        var envelope = bundle["dsseEnvelope"]!;
        var statement = Encoding.UTF8.GetString(Convert.FromBase64String((string)envelope["payload"]!));
        Assert.Contains(signed["sha256:".Length..], statement, StringComparison.Ordinal);
        envelope["payload"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(statement.Replace(signed["sha256:".Length..], target["sha256:".Length..], StringComparison.Ordinal)));
        var forgedBundle = Encoding.UTF8.GetBytes(bundle.ToJsonString());
        layer["digest"] = await _pusher.PushBlobAsync(repository, forgedBundle);
        layer["size"] = forgedBundle.Length;
        manifest["subject"]!["digest"] = target;
        var forgedManifest = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        entry["digest"] = await _pusher.PushManifestAsync(repository, OciPusher.Sha256(forgedManifest), manifestType, forgedManifest);
        entry["size"] = forgedManifest.Length;
        await _pusher.PushManifestAsync(repository, SchemaTag(target), indexType, Encoding.UTF8.GetBytes(index.ToJsonString()));
    }
}
