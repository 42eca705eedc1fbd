namespace SysextFunctions.Registry.Oci;

/// <summary>Media types of the OCI image spec and the Docker v2 schema 2 manifests they descend from.</summary>
/// <remarks>https://github.com/opencontainers/image-spec/blob/main/media-types.md</remarks>
public static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayerTar = "application/vnd.oci.image.layer.v1.tar";
    public const string OciLayerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string OciLayerTarZstd = "application/vnd.oci.image.layer.v1.tar+zstd";

    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayerTarGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    /// <summary>What we accept when resolving a reference: single manifests and indexes of both families.</summary>
    public static readonly string[] AcceptedManifests = [OciManifest, OciIndex, DockerManifest, DockerManifestList];

    public static bool IsImageManifest(string? mediaType) => mediaType is OciManifest or DockerManifest;

    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;
}
