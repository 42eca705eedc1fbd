using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// Pushes content through the distribution API the way oras, docker and skopeo do: blobs by monolithic upload
/// (POST then PUT ?digest=), then the manifest under a tag.
/// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-blobs
/// </summary>
/// <remarks>
/// The end-to-end tests and the demo push with the real oras (<see cref="Oras"/>). This pusher stays for what oras
/// cannot make: Docker v2 manifests and manifest lists (what docker pushes), OCI images with an image config and
/// several layers (buildah, podman), hand-made or broken manifests for the fault tests; and for the proxy's
/// HTTP-level tests, which push many small artifacts in-process through test registries that demand tokens or
/// basic auth with a per-test HttpClient, where one oras process per push would only add time; and for the
/// benchmark's repositories of hundreds of tags (<see cref="PushManyAsync"/>).
/// <see cref="PushOrasArtifactAsync"/> writes the manifest shape oras writes.
/// </remarks>
internal sealed class OciPusher(Uri registry, HttpClient? http = null)
{
    /// <summary>The config of every oras artifact: the empty JSON object.</summary>
    private static readonly byte[] EmptyConfig = "{}"u8.ToArray();

    private readonly HttpClient _http = http ?? new HttpClient();

    public static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    public async Task<string> PushBlobAsync(string repository, byte[] content)
    {
        using var body = new ByteArrayContent(content);
        return await PushBlobAsync(repository, Sha256(content), body);
    }

    /// <summary>A blob whose digest the caller knows, streamed from <paramref name="content"/> (the benchmark's large blob).</summary>
    public async Task<string> PushBlobAsync(string repository, string digest, HttpContent content)
    {
        using var start = await _http.PostAsync(new Uri(registry, $"/v2/{repository}/blobs/uploads/"), null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var location = new Uri(registry, start.Headers.Location!);
        var separator = location.Query.Length > 0 ? "&" : "?";
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await _http.PutAsync(new Uri(location.AbsoluteUri + separator + "digest=" + digest), content);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        return digest;
    }

    public async Task<string> PushManifestAsync(string repository, string reference, string mediaType, byte[] manifest)
    {
        using var body = new ByteArrayContent(manifest);
        body.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var put = await _http.PutAsync(new Uri(registry, $"/v2/{repository}/manifests/{reference}"), body);
        Assert.True(put.StatusCode == HttpStatusCode.Created, $"manifest push answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
        return Sha256(manifest);
    }

    /// <summary>What <c>oras push name:tag file.raw</c> writes: an artifact with an empty config and a titled layer.</summary>
    public async Task<PushedImage> PushOrasArtifactAsync(string repository, string? tag, string title, byte[] content, string layerMediaType = MediaTypes.OciLayerTar)
    {
        var layerDigest = await PushBlobAsync(repository, content);
        return await PushOrasManifestAsync(repository, tag, title, layerDigest, content.Length, layerMediaType);
    }

    /// <summary>The manifest of <see cref="PushOrasArtifactAsync"/> over a layer already pushed (and its empty config).</summary>
    public async Task<PushedImage> PushOrasManifestAsync(string repository, string? tag, string title, string layerDigest, long layerSize, string layerMediaType = MediaTypes.OciLayerTar)
    {
        await PushBlobAsync(repository, EmptyConfig);
        return await PushOrasManifestOnlyAsync(repository, tag, title, layerDigest, layerSize, layerMediaType);
    }

    /// <summary>
    /// <paramref name="count"/> artifacts as <see cref="PushSmallArtifactAsync(string, string)"/> pushes them, tagged v1.0.0 to v1.0.99,
    /// v1.1.0 and so on, eight at a time and the empty config once: a repository of many tags, quickly.
    /// </summary>
    public async Task PushManyAsync(string repository, int count)
    {
        await PushBlobAsync(repository, EmptyConfig);
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            await PushSmallArtifactAsync(repository, $"v1.{i / 100}.{i % 100}", configPushed: true));
    }

    /// <summary>What oras pushes for a one-line file <c>&lt;name&gt;-&lt;tag&gt;.raw</c> whose bytes no other tag has.</summary>
    public Task<PushedImage> PushSmallArtifactAsync(string repository, string tag) => PushSmallArtifactAsync(repository, tag, configPushed: false);

    private async Task<PushedImage> PushSmallArtifactAsync(string repository, string tag, bool configPushed)
    {
        var layer = Encoding.ASCII.GetBytes($"{repository} layer {tag}\n");
        var layerDigest = await PushBlobAsync(repository, layer);
        var title = $"{repository[(repository.LastIndexOf('/') + 1)..]}-{tag}.raw";
        return configPushed
            ? await PushOrasManifestOnlyAsync(repository, tag, title, layerDigest, layer.Length, MediaTypes.OciLayerTar)
            : await PushOrasManifestAsync(repository, tag, title, layerDigest, layer.Length);
    }

    /// <summary>The manifest alone, its empty config already pushed.</summary>
    private async Task<PushedImage> PushOrasManifestOnlyAsync(string repository, string? tag, string title, string layerDigest, long layerSize, string layerMediaType)
    {
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["artifactType"] = "application/vnd.unknown.artifact.v1",
            ["config"] = Descriptor(MediaTypes.OciEmpty, Sha256(EmptyConfig), EmptyConfig.Length),
            ["layers"] = new JsonArray(Descriptor(layerMediaType, layerDigest, layerSize, title)),
            ["annotations"] = new JsonObject { ["org.opencontainers.image.created"] = "2026-11-25T00:00:00Z" },
        };
        return await PushManifestAsync(repository, tag, MediaTypes.OciManifest, manifest, layerDigest);
    }

    /// <summary>What <c>docker push</c> of a one-layer <c>FROM scratch</c> image writes.</summary>
    public Task<PushedImage> PushDockerImageAsync(string repository, string? tag, byte[] layerTarGz) =>
        PushImageAsync(repository, tag, layerTarGz, MediaTypes.DockerManifest, MediaTypes.DockerConfig, MediaTypes.DockerLayerTarGzip);

    /// <summary>What buildah/podman or <c>docker buildx --oci-mediatypes</c> write for the same image.</summary>
    public Task<PushedImage> PushOciImageAsync(string repository, string? tag, byte[] layerTarGz) =>
        PushImageAsync(repository, tag, layerTarGz, MediaTypes.OciManifest, MediaTypes.OciConfig, MediaTypes.OciLayerTarGzip);

    /// <summary>An image with several layers, which cannot be a sysext.</summary>
    public async Task<PushedImage> PushMultiLayerImageAsync(string repository, string? tag, params byte[][] layers)
    {
        var config = ImageConfig();
        var configDigest = await PushBlobAsync(repository, config);
        var descriptors = new JsonArray();
        foreach (var layer in layers)
        {
            descriptors.Add(Descriptor(MediaTypes.OciLayerTarGzip, await PushBlobAsync(repository, layer), layer.Length));
        }

        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = Descriptor(MediaTypes.OciConfig, configDigest, config.Length),
            ["layers"] = descriptors,
        };
        return await PushManifestAsync(repository, tag, MediaTypes.OciManifest, manifest, "");
    }

    /// <summary>An image index over already pushed manifests.</summary>
    public Task<string> PushIndexAsync(string repository, string tag, params (PushedImage Image, string Os, string Architecture, string? Variant)[] entries) =>
        PushIndexAsync(repository, tag, MediaTypes.OciIndex, entries);

    /// <summary>An OCI image index or a Docker manifest list (<paramref name="mediaType"/>) over already pushed manifests.</summary>
    public async Task<string> PushIndexAsync(string repository, string tag, string mediaType, params (PushedImage Image, string Os, string Architecture, string? Variant)[] entries)
    {
        var entryType = mediaType == MediaTypes.DockerManifestList ? MediaTypes.DockerManifest : MediaTypes.OciManifest;
        var manifests = new JsonArray();
        foreach (var (image, os, architecture, variant) in entries)
        {
            var descriptor = Descriptor(entryType, image.ManifestDigest, image.ManifestSize);
            var platform = new JsonObject { ["architecture"] = architecture, ["os"] = os };
            if (variant is not null)
            {
                platform["variant"] = variant;
            }

            descriptor["platform"] = platform;
            manifests.Add(descriptor);
        }

        var index = new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = mediaType, ["manifests"] = manifests };
        return await PushManifestAsync(repository, tag, mediaType, Encoding.UTF8.GetBytes(index.ToJsonString()));
    }

    private async Task<PushedImage> PushImageAsync(string repository, string? tag, byte[] layer, string manifestType, string configType, string layerType)
    {
        var config = ImageConfig();
        var configDigest = await PushBlobAsync(repository, config);
        var layerDigest = await PushBlobAsync(repository, layer);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = manifestType,
            ["config"] = Descriptor(configType, configDigest, config.Length),
            ["layers"] = new JsonArray(Descriptor(layerType, layerDigest, layer.Length)),
        };
        return await PushManifestAsync(repository, tag, manifestType, manifest, layerDigest);
    }

    /// <param name="tag">null pushes the manifest by digest only, as the platform manifests of an index are.</param>
    private async Task<PushedImage> PushManifestAsync(string repository, string? tag, string mediaType, JsonObject manifest, string layerDigest)
    {
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var digest = await PushManifestAsync(repository, tag ?? Sha256(bytes), mediaType, bytes);
        return new PushedImage(digest, bytes.Length, layerDigest);
    }

    private static byte[] ImageConfig() => JsonSerializer.SerializeToUtf8Bytes(new JsonObject
    {
        ["architecture"] = "amd64",
        ["os"] = "linux",
        ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray() },
    });

    private static JsonObject Descriptor(string mediaType, string digest, long size, string? title = null)
    {
        var descriptor = new JsonObject { ["mediaType"] = mediaType, ["digest"] = digest, ["size"] = size };
        if (title is not null)
        {
            descriptor["annotations"] = new JsonObject { [global::SysextFunctions.Registry.Oci.Descriptor.TitleAnnotation] = title };
        }

        return descriptor;
    }
}

internal sealed record PushedImage(string ManifestDigest, long ManifestSize, string LayerDigest);
