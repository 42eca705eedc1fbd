using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Http;

/// <summary>
/// Streams a blob from the registry to the client through the server's pooled output buffers, hashing and
/// counting as it goes. The Content-Length is the size the manifest promised; if the registry sends other bytes
/// or fewer, the connection is aborted so that the client can never take a wrong file for a complete one.
/// </summary>
public sealed partial class BlobStreamResult(SysextFile file, BlobResponse blob) : IResult
{
    // Large chunks mean few syscalls and flushes on both sockets; the server's pipe rents them from a pool.
    private const int ChunkSize = 1024 * 1024;
    private const int FillBytes = 256 * 1024;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using var owned = blob;
        var response = httpContext.Response;
        var logger = httpContext.RequestServices.GetRequiredService<ILogger<BlobStreamResult>>();
        var cancellationToken = httpContext.RequestAborted;

        if (owned.Length is { } announced && announced != file.Size)
        {
            LogMismatch(logger, file.Name, file.Digest.ToString(), $"registry announced {announced} bytes, manifest says {file.Size}");
            await ErrorResults.Text(StatusCodes.Status502BadGateway, "registry sent a blob of the wrong size").ExecuteAsync(httpContext).ConfigureAwait(false);
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
        long copied = 0;
        try
        {
            while (copied < file.Size)
            {
                // Read straight into the server's output buffer (pooled: no copy of ours, no allocation per
                // chunk), and fill it well so that each flush is one large send.
                var memory = writer.GetMemory(ChunkSize);
                var read = await source.ReadAtLeastAsync(memory, Math.Min(memory.Length, FillBytes), throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                if (copied + read > file.Size)
                {
                    // More bytes than the manifest promised: never send them; the size check below aborts.
                    copied += read;
                    break;
                }

                copied += read;
                hash.AppendData(memory.Span[..read]);
                writer.Advance(read);
                // The last chunk stays unsent until the digest is checked: a bad blob then never reaches the
                // client complete, whatever the timing of the reset.
                if (copied < file.Size)
                {
                    var flushed = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                    if (flushed.IsCanceled || flushed.IsCompleted)
                    {
                        return;
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            LogMismatch(logger, file.Name, file.Digest.ToString(), $"registry connection broke after {copied} bytes");
            httpContext.Abort();
            return;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        if (copied != file.Size || Digest.Sha256(digest) != file.Digest)
        {
            // Resetting the connection is the only signal a client cannot mistake for a complete response.
            LogMismatch(logger, file.Name, file.Digest.ToString(), copied != file.Size ? $"got {copied} of {file.Size} bytes" : "content does not match its digest");
            httpContext.Abort();
            return;
        }

        // Verified: now the held-back last chunk may go. The server would not send it by itself.
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Aborted delivery of {File} ({Digest}): {Reason}")]
    private static partial void LogMismatch(ILogger logger, string file, string digest, string reason);
}
