using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// Writes an OCI image layout directory (https://github.com/opencontainers/image-spec/blob/main/image-layout.md) in
/// the shape <c>oras push --oci-layout &lt;dir&gt;:&lt;tag&gt; file</c> leaves it: <c>oci-layout</c>, content-addressed
/// <c>blobs/sha256/</c>, and <c>index.json</c> naming each tag with <c>org.opencontainers.image.ref.name</c>.
/// </summary>
internal sealed class OciLayoutWriter
{
    private readonly string _directory;
    private readonly JsonArray _manifests = [];

    public OciLayoutWriter(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(Path.Combine(directory, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        WriteIndex();
    }

    public string WriteBlob(byte[] content)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(content));
        File.WriteAllBytes(Path.Combine(_directory, "blobs", "sha256", hex), content);
        return "sha256:" + hex;
    }

    /// <summary>An oras artifact; <paramref name="tag"/> null leaves it out of index.json (a platform of an index).</summary>
    public PushedImage AddOrasArtifact(string? tag, string title, byte[] content, string layerMediaType = MediaTypes.OciLayerTar)
    {
        var empty = "{}"u8.ToArray();
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["artifactType"] = "application/vnd.unknown.artifact.v1",
            ["config"] = new JsonObject { ["mediaType"] = MediaTypes.OciEmpty, ["digest"] = WriteBlob(empty), ["size"] = empty.Length, ["data"] = "e30=" },
            ["layers"] = new JsonArray(new JsonObject
            {
                ["mediaType"] = layerMediaType,
                ["digest"] = WriteBlob(content),
                ["size"] = content.Length,
                ["annotations"] = new JsonObject { [Descriptor.TitleAnnotation] = title },
            }),
            ["annotations"] = new JsonObject { ["org.opencontainers.image.created"] = "2026-11-25T00:00:00Z" },
        };
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var digest = WriteBlob(bytes);
        if (tag is not null)
        {
            Tag(tag, MediaTypes.OciManifest, digest, bytes.Length, "application/vnd.unknown.artifact.v1");
        }

        return new PushedImage(digest, bytes.Length, manifest["layers"]![0]!["digest"]!.GetValue<string>());
    }

    /// <summary>An image index over platform manifests, as <c>oras copy -r</c> or <c>skopeo copy --all</c> write.</summary>
    public void AddIndex(string tag, params (PushedImage Image, string Os, string Architecture)[] entries)
    {
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciIndex,
            ["manifests"] = new JsonArray([.. entries.Select(e => (JsonNode)new JsonObject
            {
                ["mediaType"] = MediaTypes.OciManifest,
                ["digest"] = e.Image.ManifestDigest,
                ["size"] = e.Image.ManifestSize,
                ["platform"] = new JsonObject { ["architecture"] = e.Architecture, ["os"] = e.Os },
            })]),
        };
        var bytes = Encoding.UTF8.GetBytes(index.ToJsonString());
        Tag(tag, MediaTypes.OciIndex, WriteBlob(bytes), bytes.Length, null);
    }

    private void Tag(string tag, string mediaType, string digest, long size, string? artifactType)
    {
        var descriptor = new JsonObject
        {
            ["mediaType"] = mediaType,
            ["digest"] = digest,
            ["size"] = size,
            ["annotations"] = new JsonObject
            {
                ["org.opencontainers.image.created"] = "2026-11-25T00:00:00Z",
                [Descriptor.RefNameAnnotation] = tag,
            },
        };
        if (artifactType is not null)
        {
            descriptor["artifactType"] = artifactType;
        }

        _manifests.Add(descriptor);
        WriteIndex();
    }

    private void WriteIndex()
    {
        var index = new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = MediaTypes.OciIndex, ["manifests"] = _manifests.DeepClone() };
        File.WriteAllText(Path.Combine(_directory, "index.json"), index.ToJsonString());
    }
}
