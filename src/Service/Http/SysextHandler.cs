using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using SysextFunctions.Http.Pages;
using SysextFunctions.Registry;
using SysextFunctions.Rollouts;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Http;

/// <summary>
/// Answers sysupdate's requests. Both hostings (the Functions worker and plain Kestrel) call this with the
/// request and execute the <see cref="IResult"/> it returns, so behaviour cannot drift between them.
/// </summary>
public sealed partial class SysextHandler(
    SysextCatalogue catalogue,
    UpstreamResolver upstreams,
    ChecksumsSigner signer,
    CatalogueEndpoints pages,
    HttpCaching caching,
    SysextMetrics metrics,
    RolloutService rollouts,
    MachineKeys machineKeys,
    IOptions<ProxyOptions> options,
    ILogger<SysextHandler> logger)
{
    public const string Description = "Sysext Functions: systemd-sysupdate sources from an OCI registry. GET /<repository>/SHA256SUMS";

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            return ErrorResults.Text(StatusCodes.Status405MethodNotAllowed, "only GET and HEAD are supported");
        }

        var parsed = SysupdatePath.Parse(RawTarget(context), machineKeys);
        if (parsed.Path is not { } path)
        {
            return ErrorResults.From(parsed.Failure, parsed.Error!);
        }

        var result = await AnswerAsync(context, path).ConfigureAwait(false);
        return path.Machine is null ? result : HttpCaching.Private(result);
    }

    private async Task<IResult> AnswerAsync(HttpContext context, SysupdatePath path)
    {
        var request = context.Request;
        if (path.Resource is SysupdateResource.Root)
        {
            return CatalogueEndpoints.WantsPage(request)
                ? await pages.IndexAsync(context).ConfigureAwait(false)
                : Results.Text(Description + "\n", "text/plain; charset=utf-8");
        }

        if (upstreams.Resolve(path.Repository) is not { } upstream)
        {
            return ErrorResults.Text(StatusCodes.Status404NotFound, $"repository {path.Repository} is not served here");
        }

        try
        {
            return path.Resource switch
            {
                SysupdateResource.Checksums => await ChecksumsAsync(upstream, path, context.RequestAborted).ConfigureAwait(false),
                SysupdateResource.File => await FileAsync(upstream, path, request, context.RequestAborted).ConfigureAwait(false),
                SysupdateResource.Catalogue => await pages.CatalogueAsync(upstream, path, context).ConfigureAwait(false),
                SysupdateResource.Transfer => await pages.TransferAsync(upstream, path, context).ConfigureAwait(false),
                _ => await SignatureAsync(upstream, path, context.RequestAborted).ConfigureAwait(false),
            };
        }
        catch (RegistryException e)
        {
            LogRegistryFailure(logger, path.Repository, path.FileName, e.Failure, e.Message);
            return ErrorResults.From(e);
        }
    }

    private async Task<IResult> ChecksumsAsync(Upstream upstream, SysupdatePath path, CancellationToken cancellationToken)
    {
        var (snapshot, list) = await ListFor(upstream, path, cancellationToken).ConfigureAwait(false);
        // The bytes result answers If-None-Match with a 304 itself.
        return HttpCaching.With(caching.ForListing(snapshot), Results.Bytes(list.Body, "text/plain; charset=utf-8", entityTag: new EntityTagHeaderValue(list.ETag)));
    }

    /// <summary>The listing, and the SHA256SUMS this path gets from it: the machine's share of a rollout, or the whole.</summary>
    private async Task<(RepositorySnapshot Snapshot, ChecksumsList List)> ListFor(Upstream upstream, SysupdatePath path, CancellationToken cancellationToken)
    {
        var snapshot = await catalogue.SnapshotAsync(upstream, path.Name, cancellationToken).ConfigureAwait(false);
        var rollout = await rollouts.GetAsync(upstream, snapshot, cancellationToken).ConfigureAwait(false);
        return (snapshot, rollouts.ChecksumsFor(snapshot, rollout, path.Machine, path.Repository));
    }

    /// <summary>
    /// systemd 254 fetches only SHA256SUMS.gpg. Newer systemd-pull probes SHA256SUMS.sha256.asc, .sha256.gpg,
    /// SHA256SUMS.gpg, SHA256SUMS.asc and moves on only on 404 (src/import/pull-common.c,
    /// pull_job_restart_with_signature). The .sha256.* names are SUSE-style per-file signatures of a
    /// "SHA256SUMS.sha256" checksum file that does not exist here, so they stay 404 and both old and new clients
    /// land on SHA256SUMS.gpg; SHA256SUMS.asc carries the same signature armored.
    /// </summary>
    private async Task<IResult> SignatureAsync(Upstream upstream, SysupdatePath path, CancellationToken cancellationToken)
    {
        var armored = path.FileName == SysupdatePath.ChecksumsName + ".asc";
        if (!signer.IsEnabled || !(armored || path.FileName == SysupdatePath.ChecksumsName + ".gpg"))
        {
            // Exactly 404, which is what makes sysupdate move on to the next name.
            return ErrorResults.Text(StatusCodes.Status404NotFound, $"{path.FileName}: no signature is served under this name");
        }

        var (snapshot, list) = await ListFor(upstream, path, cancellationToken).ConfigureAwait(false);
        if (list.Signature is not { } signature)
        {
            return ErrorResults.Text(StatusCodes.Status404NotFound, $"{path.FileName}: no signature is served");
        }

        // Tagged by its own bytes: a signature made on another listing of the same SHA256SUMS is other bytes.
        var bytes = armored ? ChecksumsSigner.Armor(signature) : signature;
        var etag = new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))}\"");
        return HttpCaching.With(caching.ForListing(snapshot), Results.Bytes(bytes, "application/pgp-signature", entityTag: etag));
    }

    private async Task<IResult> FileAsync(Upstream upstream, SysupdatePath path, HttpRequest request, CancellationToken cancellationToken)
    {
        var file = await catalogue.FindAsync(upstream, path.Name, path.FileName, cancellationToken).ConfigureAwait(false);
        if (file is null)
        {
            return ErrorResults.Text(StatusCodes.Status404NotFound, $"{path.FileName}: no such file in {path.Repository}");
        }

        // The digest names the bytes wherever they come from: a client holding them needs neither blob nor redirect.
        var cacheControl = caching.ForFile();
        var etag = new EntityTagHeaderValue($"\"{file.Digest}\"");
        if (HttpCaching.NoneMatchHits(request, etag))
        {
            return HttpCaching.NotModified(cacheControl, etag);
        }

        return HttpCaching.With(cacheControl, await DeliverAsync(upstream, path, file, HttpMethods.IsHead(request.Method), cancellationToken).ConfigureAwait(false));
    }

    private async Task<IResult> DeliverAsync(Upstream upstream, SysupdatePath path, SysextFile file, bool head, CancellationToken cancellationToken)
    {
        var mode = options.Value.BlobDelivery;
        LogDelivery(logger, path.Repository, file.Tag, file.Digest.ToString(), mode, file.Size);
        if (path.Machine is { } machine)
        {
            // The hash, never the key: enough to count distinct machines per version (docs/rollouts.md).
            LogMachineDownload(logger, path.Repository, file.Version, file.Name, machine.Prefix);
            metrics.RolloutDownload(path.Repository, file.Version);
        }

        if (mode == BlobDelivery.Redirect && upstream.Source.BlobUri(upstream.Repository, file.Digest) is { } blobUri)
        {
            metrics.FileDelivered(path.Repository, file, Telemetry.Delivery.Redirect);
            return Results.Redirect(blobUri.AbsoluteUri, permanent: false, preserveMethod: true);
        }

        if (head)
        {
            // sysupdate never sends HEAD; answer it from the manifest without touching the blob.
            metrics.FileDelivered(path.Repository, file, Telemetry.Delivery.Head);
            return new HeadResult(file);
        }

        var blob = await upstream.Source.GetBlobAsync(upstream.Repository, file.Digest, followRedirects: mode == BlobDelivery.Stream, cancellationToken).ConfigureAwait(false);
        metrics.FileDelivered(path.Repository, file, blob.RedirectTo is null ? Telemetry.Delivery.Stream : Telemetry.Delivery.StorageRedirect);
        return blob.RedirectTo is { } storage
            ? Results.Redirect(storage.AbsoluteUri, permanent: false, preserveMethod: true)
            : new BlobStreamResult(file, blob, path.Repository);
    }

    /// <summary>The request target as the client sent it, before the server decoded anything.</summary>
    private static string RawTarget(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            return context.Request.PathBase.Add(context.Request.Path).ToUriComponent() + context.Request.QueryString.ToUriComponent();
        }

        // Absolute-form targets (RFC 9112 §3.2.2) carry scheme and authority first. Cut them off the text rather
        // than through Uri, which would decode escapes and remove dot segments before the parser could refuse them.
        if (raw.StartsWith('/'))
        {
            return raw;
        }

        var authority = raw.IndexOf("://", StringComparison.Ordinal);
        var path = authority < 0 ? -1 : raw.IndexOf('/', authority + 3);
        return authority < 0 ? raw : path < 0 ? "/" : raw[path..];
    }

    private sealed class HeadResult(SysextFile file) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/octet-stream";
            httpContext.Response.ContentLength = file.Size;
            httpContext.Response.Headers.ETag = $"\"{file.Digest}\"";
            return Task.CompletedTask;
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Delivering {Repository}:{Tag} ({Digest}) by {Mode}, {Bytes} bytes")]
    private static partial void LogDelivery(ILogger logger, string repository, string tag, string digest, BlobDelivery mode, long bytes);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Rollout download of {Repository}:{Version} ({File}) by machine {MachineHash}")]
    private static partial void LogMachineDownload(ILogger logger, string repository, string version, string file, string machineHash);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Request for {Repository}/{File} failed: {Failure}: {Reason}")]
    private static partial void LogRegistryFailure(ILogger logger, string repository, string file, RegistryFailure failure, string reason);
}
