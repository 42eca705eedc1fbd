namespace SysextFunctions.Http;

/// <summary>How file bytes reach the client.</summary>
public enum BlobDelivery
{
    /// <summary>Pass on the registry's redirect to its storage when it gives one; stream otherwise.</summary>
    Auto,

    /// <summary>307 to the registry's blob URL: only for registries clients can reach anonymously.</summary>
    Redirect,

    /// <summary>Always stream the blob through this service.</summary>
    Stream,
}

/// <summary>The <c>Proxy</c> configuration section.</summary>
public sealed class ProxyOptions
{
    public const string Section = "Proxy";

    public BlobDelivery BlobDelivery { get; set; } = BlobDelivery.Auto;

    /// <summary>
    /// Take <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c> as the URL clients used, for generated transfer
    /// definitions: only behind a proxy that sets them (Azure's front end sets <c>X-Forwarded-Proto</c>).
    /// </summary>
    public bool TrustForwardedHeaders { get; set; }
}
