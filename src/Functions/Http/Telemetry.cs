using System.Diagnostics;
using System.Diagnostics.Metrics;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Http;

/// <summary>
/// Our own telemetry: metrics, and attributes on the request's activity saying which file went out and how.
/// Registered and exported by <c>Hosting/TelemetryServices</c>.
/// </summary>
public static class Telemetry
{
    /// <summary>Name of our <see cref="Meter"/>, and of the service in exported resources.</summary>
    public const string Name = "SysextFunctions";

    public const string ServiceName = "sysext-functions";

    // Attribute names, in the OpenTelemetry style (a namespace, dot-separated, lower case).
    public const string RepositoryAttribute = "sysext.repository";
    public const string TagAttribute = "sysext.tag";
    public const string DigestAttribute = "sysext.digest";
    public const string FileAttribute = "sysext.file";
    public const string DeliveryAttribute = "sysext.delivery";
    public const string BytesAttribute = "sysext.bytes";
    public const string VersionAttribute = "sysext.version";

    /// <summary>How a file reached the client, as the <see cref="DeliveryAttribute"/> value.</summary>
    public static class Delivery
    {
        /// <summary>307 to the registry's own blob URL (<c>Proxy:BlobDelivery=redirect</c>).</summary>
        public const string Redirect = "redirect";

        /// <summary>The registry's redirect to its storage, passed on (<c>auto</c> against GHCR, Docker Hub, ACR).</summary>
        public const string StorageRedirect = "storage-redirect";

        /// <summary>Streamed through this service.</summary>
        public const string Stream = "stream";

        /// <summary>A HEAD answered from the manifest; no bytes.</summary>
        public const string Head = "head";
    }

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> FilesDelivered = Meter.CreateCounter<long>(
        "sysext.files.delivered", "{file}", "Files handed to clients, by repository and delivery mode");

    private static readonly Counter<long> BytesStreamed = Meter.CreateCounter<long>(
        "sysext.bytes.streamed", "By", "Blob bytes streamed through this service (redirected files cost none)");

    private static readonly Counter<long> RolloutDownloads = Meter.CreateCounter<long>(
        "sysext.rollout.downloads", "{file}", "Files downloaded through a machine-scoped path (/_m/<key>/...), by repository and version");

    private static readonly Counter<long> ListsSigned = Meter.CreateCounter<long>(
        "sysext.rollout.lists.signed", "{signature}", "Per-machine SHA256SUMS variants signed (once per distinct list)");

    /// <summary>
    /// Records a download by an identified machine. Version is a tag here, on purpose: a rollout is watched per
    /// version, and the versions of a repository are few. The machine is never an attribute (one series per machine).
    /// </summary>
    public static void RolloutDownload(string repository, string version) =>
        RolloutDownloads.Add(1, new TagList { { RepositoryAttribute, repository }, { VersionAttribute, version } });

    /// <summary>Records one signing of a per-machine list.</summary>
    public static void ListSigned() => ListsSigned.Add(1);

    /// <summary>Records a file answered to a client, on the current (request) activity and in the metrics.</summary>
    public static void FileDelivered(string repository, SysextFile file, string delivery)
    {
        Activity.Current?
            .SetTag(RepositoryAttribute, repository)
            .SetTag(TagAttribute, file.Tag)
            .SetTag(DigestAttribute, file.Digest.ToString())
            .SetTag(FileAttribute, file.Name)
            .SetTag(DeliveryAttribute, delivery)
            .SetTag(BytesAttribute, file.Size);
        // Tag and digest stay off the metric: one series per version would grow without bound.
        FilesDelivered.Add(1, new TagList { { RepositoryAttribute, repository }, { DeliveryAttribute, delivery } });
    }

    /// <summary>Records the bytes a stream handed to the server to send, complete or not.</summary>
    public static void Streamed(string repository, long bytes) =>
        BytesStreamed.Add(bytes, new TagList { { RepositoryAttribute, repository } });
}
