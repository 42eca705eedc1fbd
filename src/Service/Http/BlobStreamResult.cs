using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Http;

/// <summary>
/// Streams a blob from the registry to the client through the server's pooled output buffers, hashing and
/// counting as it goes. The Content-Length is the size the manifest promised; if the registry sends other bytes
/// or fewer, the connection is aborted so that the client can never take a wrong file for a complete one.
/// </summary>
public sealed partial class BlobStreamResult(SysextFile file, BlobResponse blob, string repository) : IResult
{
    // Large chunks mean few syscalls and flushes on both sockets; the server's pipe rents them from a pool.
    private const int ChunkSize = 1024 * 1024;
    private const int FillBytes = 256 * 1024;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using var owned = blob;
        var response = httpContext.Response;
        var logger = httpContext.RequestServices.GetRequiredService<ILogger<BlobStreamResult>>();
        var metrics = httpContext.RequestServices.GetRequiredService<SysextMetrics>();
        var cancellationToken = httpContext.RequestAborted;
        // No limit on how long a blob takes, only on silence: an upstream that sends nothing for its own timeout
        // mid-blob is given up on, so that a stalled upstream cannot hold the client's connection forever.
        var idleLimit = owned.IdleTimeout;

        if (owned.Length is { } announced && announced != file.Size)
        {
            LogMismatch(logger, file.Name, file.Digest.ToString(), $"registry announced {announced} bytes, manifest says {file.Size}");
            await ErrorResults.Text(StatusCodes.Status502BadGateway, "registry sent a blob of the wrong size").ExecuteAsync(httpContext).ConfigureAwait(false);
            return;
        }

        if (owned.Digest is { } labelled && labelled != file.Digest)
        {
            LogMismatch(logger, file.Name, file.Digest.ToString(), $"registry labelled the blob {labelled}");
            await ErrorResults.Text(StatusCodes.Status502BadGateway, "registry sent a blob with another digest").ExecuteAsync(httpContext).ConfigureAwait(false);
            return;
        }

        // Hostings may buffer a response to set its length; a blob must go out as it arrives, in constant memory.
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/octet-stream";
        response.ContentLength = file.Size;
        response.Headers.ETag = $"\"{file.Digest}\"";

        var source = owned.Content!;
        var writer = response.BodyWriter;
        // Headers first: from then on the writer hands out the transport's own buffers.
        await response.StartAsync(cancellationToken).ConfigureAwait(false);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long copied = 0;
        long sent = 0;
        string? failure = null;
        try
        {
            while (copied < file.Size)
            {
                // Read straight into the server's output buffer (pooled: no copy of ours, no allocation per
                // chunk), and fill it well so that each flush is one large send.
                var memory = writer.GetMemory(ChunkSize);
                var read = await FillAsync(source, memory, Math.Min(memory.Length, FillBytes), idle, idleLimit).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                if (copied + read > file.Size)
                {
                    // More bytes than the manifest promised: never send them.
                    failure = $"got more than the {file.Size} bytes promised";
                    break;
                }

                copied += read;
                hash.AppendData(memory.Span[..read]);
                writer.Advance(read);
                // The last chunk stays unsent until the digest is checked: once the client has Content-Length
                // bytes, a reset after them could no longer tell it the file is wrong.
                if (copied < file.Size)
                {
                    sent = copied;
                    var flushed = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                    if (flushed.IsCanceled || flushed.IsCompleted)
                    {
                        return;
                    }
                }
            }

            failure ??= copied < file.Size ? $"got {copied} of {file.Size} bytes"
                : !Matches(hash, file.Digest) ? "content does not match its digest"
                : null;
        }
        catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            failure = $"registry connection broke after {copied} bytes";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            failure = $"registry sent nothing for {idleLimit} after {copied} bytes";
        }
        finally
        {
            metrics.Streamed(repository, sent);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        if (failure is not null)
        {
            // Resetting the connection before Content-Length bytes is the only signal a client cannot mistake for
            // a complete response.
            LogMismatch(logger, file.Name, file.Digest.ToString(), failure);
            httpContext.Abort();
            return;
        }

        // Verified: now the held-back last chunk may go. The server would not send it by itself. It is counted as
        // it is handed over: a client that has the whole file may close before the flush reports back.
        metrics.Streamed(repository, file.Size - sent);
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads until <paramref name="fill"/> bytes or the end, restarting the countdown with every read: what is
    /// limited is the registry's silence, not how long a slow but steady registry takes to fill the buffer. The
    /// countdown stops on return, so that the time we spend writing to a slow client is not held against it.
    /// </summary>
    private static async ValueTask<int> FillAsync(Stream source, Memory<byte> buffer, int fill, CancellationTokenSource idle, TimeSpan idleLimit)
    {
        var total = 0;
        try
        {
            while (total < fill)
            {
                idle.CancelAfter(idleLimit);
                var read = await source.ReadAsync(buffer[total..], idle.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }
        }
        finally
        {
            idle.CancelAfter(Timeout.InfiniteTimeSpan);
        }

        return total;
    }

    private static bool Matches(IncrementalHash hash, Digest expected)
    {
        Span<byte> digest = stackalloc byte[32];
        hash.GetCurrentHash(digest);
        return Digest.Sha256(digest) == expected;
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Error, Message = "Aborted delivery of {File} ({Digest}): {Reason}")]
    private static partial void LogMismatch(ILogger logger, string file, string digest, string reason);
}
