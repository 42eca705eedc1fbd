using System.Diagnostics;
using System.Diagnostics.Metrics;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Http;

/// <summary>
/// The names of our own telemetry: the meter, the service, and the attributes on the request's activity saying
/// which file went out and how. The instruments are <see cref="SysextMetrics"/>'; exported by
/// <c>Hosting/TelemetryServices</c>.
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
}

/// <summary>
/// Our metrics, from the host's <see cref="IMeterFactory"/> so that each host (and each test's host) has meters of its
/// own, and the file attributes on the request's activity.
/// </summary>
public sealed class SysextMetrics
{
    private readonly Counter<long> _filesDelivered;
    private readonly Counter<long> _bytesStreamed;
    private readonly Counter<long> _rolloutDownloads;
    private readonly Counter<long> _listsSigned;

    public SysextMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Telemetry.Name);
        _filesDelivered = meter.CreateCounter<long>(
            "sysext.files.delivered", "{file}", "Files handed to clients, by repository and delivery mode");
        _bytesStreamed = meter.CreateCounter<long>(
            "sysext.bytes.streamed", "By", "Blob bytes streamed through this service (redirected files cost none)");
        _rolloutDownloads = meter.CreateCounter<long>(
            "sysext.rollout.downloads", "{file}", "Files downloaded through a machine-scoped path (/_m/<key>/...), by repository and version");
        _listsSigned = meter.CreateCounter<long>(
            "sysext.rollout.lists.signed", "{signature}", "Per-machine SHA256SUMS variants signed (once per distinct list)");
    }

    /// <summary>
    /// Records a download by an identified machine. Version is an attribute here, on purpose: a rollout is watched
    /// per version, and the versions of a repository are few. The machine is never one (a series per machine).
    /// </summary>
    public void RolloutDownload(string repository, string version) =>
        _rolloutDownloads.Add(1, new TagList { { Telemetry.RepositoryAttribute, repository }, { Telemetry.VersionAttribute, version } });

    /// <summary>Records one signing of a per-machine list.</summary>
    public void ListSigned() => _listsSigned.Add(1);

    /// <summary>Records a file answered to a client, on the current (request) activity and in the metrics.</summary>
    public void FileDelivered(string repository, SysextFile file, string delivery)
    {
        Activity.Current?
            .SetTag(Telemetry.RepositoryAttribute, repository)
            .SetTag(Telemetry.TagAttribute, file.Tag)
            .SetTag(Telemetry.DigestAttribute, file.Digest.ToString())
            .SetTag(Telemetry.FileAttribute, file.Name)
            .SetTag(Telemetry.DeliveryAttribute, delivery)
            .SetTag(Telemetry.BytesAttribute, file.Size);
        // Tag and digest stay off the metric: one series per version would grow without bound.
        _filesDelivered.Add(1, new TagList { { Telemetry.RepositoryAttribute, repository }, { Telemetry.DeliveryAttribute, delivery } });
    }

    /// <summary>Records the bytes a stream handed to the server to send, complete or not.</summary>
    public void Streamed(string repository, long bytes) =>
        _bytesStreamed.Add(bytes, new TagList { { Telemetry.RepositoryAttribute, repository } });
}
