using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace SysextFunctions.Bench;

/// <summary>Debian's docker-registry on a free loopback port, and a minimal oras-style pusher.</summary>
internal sealed class Registry : IAsyncDisposable
{
    public const string Binary = "/usr/bin/docker-registry";
    public const string ManifestType = "application/vnd.oci.image.manifest.v1+json";

    private readonly TempDirectory _storage = new("sysext-bench-registry-");
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromMinutes(5) };
    private Child? _process;

    public Uri Url { get; private set; } = null!;

    public Child Process => _process!;

    public static async Task<Registry> StartAsync()
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: run scripts/bench.sh (it installs docker-registry)");
        }

        var registry = new Registry();
        var port = FreePort.Next();
        registry.Url = new Uri($"http://127.0.0.1:{port}");
        // Debian's packaged config (/etc/docker/registry/config.yml) with a private port and storage; its
        // in-memory blob descriptor cache included, as a registry is run.
        var config = registry._storage.Combine("config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: error
              accesslog:
                disabled: true
            storage:
              cache:
                blobdescriptor: inmemory
              filesystem:
                rootdirectory: {registry._storage.Combine("data")}
            http:
              addr: 127.0.0.1:{port}
              secret: throwaway-bench-secret
            """);
        registry._process = Child.Start(Binary, ["serve", config]);
        await registry._process.WaitReadyAsync(new Uri(registry.Url, "/v2/"));
        return registry;
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    public async Task PushBlobAsync(string repository, string digest, HttpContent content)
    {
        using var start = await _http.PostAsync(new Uri(Url, $"/v2/{repository}/blobs/uploads/"), null);
        Expect(start, HttpStatusCode.Accepted);
        var location = new Uri(Url, start.Headers.Location!);
        var separator = location.Query.Length > 0 ? "&" : "?";
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await _http.PutAsync(new Uri(location.AbsoluteUri + separator + "digest=" + digest), content);
        Expect(put, HttpStatusCode.Created);
    }

    /// <summary>What <c>oras push repo:tag file.raw</c> writes; returns the layer digest.</summary>
    public async Task<string> PushArtifactAsync(string repository, string tag, string layerDigest, long layerSize, string title)
    {
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestType,
            ["artifactType"] = "application/vnd.unknown.artifact.v1",
            ["config"] = new Dictionary<string, object> { ["mediaType"] = "application/vnd.oci.empty.v1+json", ["digest"] = EmptyDigest, ["size"] = 2 },
            ["layers"] = new[]
            {
                new Dictionary<string, object>
                {
                    ["mediaType"] = "application/vnd.oci.image.layer.v1.tar",
                    ["digest"] = layerDigest,
                    ["size"] = layerSize,
                    ["annotations"] = new Dictionary<string, string> { ["org.opencontainers.image.title"] = title },
                },
            },
        });
        using var body = new ByteArrayContent(manifest);
        body.Headers.ContentType = new MediaTypeHeaderValue(ManifestType);
        using var put = await _http.PutAsync(new Uri(Url, $"/v2/{repository}/manifests/{tag}"), body);
        Expect(put, HttpStatusCode.Created);
        return layerDigest;
    }

    public static readonly string EmptyDigest = Sha256("{}"u8);

    /// <summary>A repository of <paramref name="count"/> small single-layer artifacts, tags v1.0.0, v1.0.1, …</summary>
    public async Task PushManyAsync(string repository, int count)
    {
        await PushBlobAsync(repository, EmptyDigest, new ByteArrayContent("{}"u8.ToArray()));
        var name = repository[(repository.LastIndexOf('/') + 1)..];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var layer = Encoding.ASCII.GetBytes($"{repository} layer {i}\n");
            var digest = Sha256(layer);
            await PushBlobAsync(repository, digest, new ByteArrayContent(layer));
            var tag = $"v1.{i / 100}.{i % 100}";
            await PushArtifactAsync(repository, tag, digest, layer.Length, $"{name}-{tag}.raw");
        });
    }

    /// <summary>One more small artifact under <paramref name="tag"/>, with a layer no other tag has.</summary>
    public async Task PushNewTagAsync(string repository, string tag)
    {
        var layer = Encoding.ASCII.GetBytes($"{repository} layer {tag}\n");
        var digest = Sha256(layer);
        await PushBlobAsync(repository, digest, new ByteArrayContent(layer));
        var name = repository[(repository.LastIndexOf('/') + 1)..];
        await PushArtifactAsync(repository, tag, digest, layer.Length, $"{name}-{tag}.raw");
    }

    private static void Expect(HttpResponseMessage response, HttpStatusCode status)
    {
        if (response.StatusCode != status)
        {
            var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            throw new InvalidOperationException($"registry answered {(int)response.StatusCode} to {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath}: {body}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        _http.Dispose();
        _storage.Dispose();
    }
}
