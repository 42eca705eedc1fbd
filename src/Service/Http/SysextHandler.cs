using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using SysextFunctions.Http.Pages;
using SysextFunctions.Registry;
using SysextFunctions.Rollouts;
using SysextFunctions.Sysupdate;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Http;

/// <summary>
/// Answers sysupdate's requests. Both hostings (the Functions worker and plain Kestrel) call this with the
/// request and execute the <see cref="IResult"/> it returns, so behaviour cannot drift between them.
/// </summary>
public sealed partial class SysextHandler(
    SysextListing listing,
    UpstreamResolver upstreams,
    ChecksumsSigner signer,
    CatalogueEndpoints pages,
    HttpCaching caching,
    SysextMetrics metrics,
    RolloutService rollouts,
    MachineKeys machineKeys,
    IOptions<ProxyOptions> options,
    TimeProvider time,
    ILogger<SysextHandler> logger)
{
    public const string Description = "Sysext Functions: systemd-sysupdate sources from an OCI registry. GET /<repository>/SHA256SUMS";

    private static readonly byte[] DescriptionBytes = System.Text.Encoding.UTF8.GetBytes(Description + "\n");

    /// <summary>
    /// The answer to one request, whatever happens: an exception nothing else caught becomes a short plain-text 500
    /// (or, once bytes have gone out, a reset connection), in both hostings, since both run this.
    /// </summary>
    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var decision = caching.Begin(context);
        try
        {
            return new LastResort(await AnswerAsync(context, decision).ConfigureAwait(false), caching, decision, logger);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            LogUnexpected(logger, e.GetType().Name, e);
            return ErrorResults.Unexpected();
        }
    }

    private async Task<IResult> AnswerAsync(HttpContext context, HttpCaching.Decision decision)
    {
        var request = context.Request;
        // Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET, whatever HttpMethods.IsGet would say.
        if (request.Method is not ("GET" or "HEAD"))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            return ErrorResults.Text(StatusCodes.Status405MethodNotAllowed, "only GET and HEAD are supported");
        }

        var parsed = SysupdatePath.Parse(RawTarget(context), machineKeys);
        if (parsed.Path is not { } path)
        {
            return ErrorResults.From(parsed.Failure, parsed.Error!);
        }

        decision.Route = RouteOf(path.Resource);
        // A machine-scoped answer is one machine's: no shared cache may hand it to another (HttpCaching: private).
        decision.MachineScoped = path.Machine is not null;
        if (path.Resource is SysupdateResource.Root)
        {
            return CatalogueEndpoints.WantsPage(request)
                ? await pages.IndexAsync(context).ConfigureAwait(false)
                : Results.Bytes(DescriptionBytes, "text/plain; charset=utf-8", entityTag: HttpCaching.ETagOf(DescriptionBytes));
        }

        if (upstreams.Resolve(path.Repository) is not { } upstream)
        {
            return ErrorResults.Text(StatusCodes.Status404NotFound, $"repository {path.Repository} is not served here");
        }

        try
        {
            return path.Resource switch
            {
                SysupdateResource.Checksums => await ChecksumsAsync(upstream, path, context).ConfigureAwait(false),
                SysupdateResource.File => await FileAsync(upstream, path, request, context.RequestAborted).ConfigureAwait(false),
                SysupdateResource.Catalogue => await pages.CatalogueAsync(upstream, path, context).ConfigureAwait(false),
                SysupdateResource.CatalogueJson => await pages.JsonAsync(upstream, path, context).ConfigureAwait(false),
                SysupdateResource.Transfer => await pages.TransferAsync(upstream, path, context).ConfigureAwait(false),
                _ => await SignatureAsync(upstream, path, context).ConfigureAwait(false),
            };
        }
        catch (RegistryException e)
        {
            LogRegistryFailure(logger, path.Repository, path.FileName, e.Failure, LogText.Escape(e.Message));
            return ErrorResults.From(e);
        }
    }

    /// <summary>What each resource is to a cache: <see cref="HttpCaching"/> decides from this and the status.</summary>
    private static CacheRoute RouteOf(SysupdateResource resource) => resource switch
    {
        SysupdateResource.Root => CacheRoute.Root,
        SysupdateResource.Checksums or SysupdateResource.Signature => CacheRoute.Listing,
        SysupdateResource.File => CacheRoute.File,
        SysupdateResource.Catalogue => CacheRoute.Catalogue,
        SysupdateResource.CatalogueJson => CacheRoute.CatalogueJson,
        SysupdateResource.Transfer => CacheRoute.Transfer,
        _ => CacheRoute.None,
    };

    private async Task<IResult> ChecksumsAsync(Upstream upstream, SysupdatePath path, HttpContext context)
    {
        var (snapshot, list) = await ListFor(upstream, path, context.RequestAborted).ConfigureAwait(false);
        HttpCaching.Listed(context, snapshot.ListedAt);
        // The bytes result answers If-None-Match with a 304 itself.
        return Results.Bytes(list.Body, "text/plain; charset=utf-8", entityTag: new EntityTagHeaderValue(list.ETag));
    }

    /// <summary>The listing, and the SHA256SUMS this path gets from it: the machine's share of a rollout, or the whole.</summary>
    private async Task<(RepositorySnapshot Snapshot, ChecksumsList List)> ListFor(Upstream upstream, SysupdatePath path, CancellationToken cancellationToken)
    {
        var snapshot = await listing.SnapshotAsync(upstream, path.Name, cancellationToken).ConfigureAwait(false);
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
    private async Task<IResult> SignatureAsync(Upstream upstream, SysupdatePath path, HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
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
        HttpCaching.Listed(context, snapshot.ListedAt);
        return Results.Bytes(bytes, "application/pgp-signature", entityTag: HttpCaching.ETagOf(bytes));
    }

    private async Task<IResult> FileAsync(Upstream upstream, SysupdatePath path, HttpRequest request, CancellationToken cancellationToken)
    {
        var file = await listing.FindAsync(upstream, path.Name, path.FileName, cancellationToken).ConfigureAwait(false);
        if (file is null)
        {
            return ErrorResults.Text(StatusCodes.Status404NotFound, $"{path.FileName}: no such file in {path.Repository}");
        }

        // The digest names the bytes wherever they come from: a client holding them needs neither blob nor redirect.
        var etag = new EntityTagHeaderValue($"\"{file.Digest}\"");
        if (HttpCaching.NoneMatchHits(request, etag))
        {
            return HttpCaching.NotModified(etag);
        }

        return await DeliverAsync(upstream, path, file, HttpMethods.IsHead(request.Method), cancellationToken).ConfigureAwait(false);
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
            : new BlobStreamResult(file, blob, path.Repository, time);
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

    /// <summary>
    /// Runs the answer, and if it throws, answers 500 in a short plain text while nothing has gone out yet, or resets
    /// the connection once something has (the only signal a client cannot take for a complete response).
    /// </summary>
    private sealed class LastResort(IResult inner, HttpCaching caching, HttpCaching.Decision decision, ILogger logger) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            try
            {
                await inner.ExecuteAsync(httpContext).ConfigureAwait(false);
                if (!httpContext.Response.HasStarted)
                {
                    // Where the server has not started the response yet (a body-less answer, or a host without
                    // OnStarting), the headers are set now; OnStarting sets them again, the same.
                    caching.Apply(httpContext.Response, decision);
                }
            }
            catch (Exception e) when (!httpContext.RequestAborted.IsCancellationRequested)
            {
                LogUnexpected(logger, e.GetType().Name, e);
                if (httpContext.Response.HasStarted)
                {
                    httpContext.Abort();
                    return;
                }

                httpContext.Response.Clear();
                await ErrorResults.Unexpected().ExecuteAsync(httpContext).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "Unexpected {Type} answering a request: 500")]
    private static partial void LogUnexpected(ILogger logger, string type, Exception exception);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Delivering {Repository}:{Tag} ({Digest}) by {Mode}, {Bytes} bytes")]
    private static partial void LogDelivery(ILogger logger, string repository, string tag, string digest, BlobDelivery mode, long bytes);

    // Rollouts have the 6xxx range: 6006 is what a query counting machines per version looks for.
    [LoggerMessage(EventId = 6006, Level = LogLevel.Information, Message = "Rollout download of {Repository}:{Version} ({File}) by machine {MachineHash}")]
    private static partial void LogMachineDownload(ILogger logger, string repository, string version, string file, string machineHash);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Request for {Repository}/{File} failed: {Failure}: {Reason}")]
    private static partial void LogRegistryFailure(ILogger logger, string repository, string file, RegistryFailure failure, string reason);
}
