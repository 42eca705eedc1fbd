using System.Buffers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SysextFunctions.Hosting;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Http;

/// <summary>
/// Streams a blob from the registry to the client with a pooled buffer, hashing and counting as it goes. The
/// Content-Length is the size the manifest promised; if the registry sends other bytes or fewer, the connection
/// is aborted so that the client can never take a wrong file for a complete one.
/// </summary>
public sealed partial class BlobStreamResult(SysextFile file, BlobResponse blob, string repository) : IResult
{
    private const int BufferSize = 128 * 1024;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using var owned = blob;
        var response = httpContext.Response;
        var logger = httpContext.RequestServices.GetRequiredService<ILogger<BlobStreamResult>>();
        var cancellationToken = httpContext.RequestAborted;
        // No limit on how long a blob takes, only on silence: a registry that sends nothing for this long mid-blob
        // is given up on, so that a stalled upstream cannot hold the client's connection forever.
        var idleLimit = httpContext.RequestServices.GetRequiredService<IOptions<RegistryOptions>>().Value.Timeout;

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

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/octet-stream";
        response.ContentLength = file.Size;
        response.Headers.ETag = $"\"{file.Digest}\"";

        var source = owned.Content!;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long copied = 0;
        long sent = 0;
        string? failure = null;
        try
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            int read;
            while (copied < file.Size && (read = await ReadAsync(source, buffer, idle, idleLimit).ConfigureAwait(false)) > 0)
            {
                copied += read;
                if (copied > file.Size)
                {
                    failure = $"got more than the {file.Size} bytes promised";
                    break;
                }

                hash.AppendData(buffer, 0, read);
                // The bytes that complete the file are held back until the digest checks out: once the client
                // has Content-Length bytes, a reset after them could no longer tell it the file is wrong.
                if (copied == file.Size && !Matches(hash, file.Digest))
                {
                    failure = "content does not match its digest";
                    break;
                }

                await response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                sent += read;
            }

            if (failure is null && copied < file.Size)
            {
                failure = $"got {copied} of {file.Size} bytes";
            }
            else if (failure is null && file.Size == 0 && !Matches(hash, file.Digest))
            {
                failure = "content does not match its digest";
            }
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
            ArrayPool<byte>.Shared.Return(buffer);
            Telemetry.Streamed(repository, sent);
        }

        if (failure is not null && !cancellationToken.IsCancellationRequested)
        {
            // Resetting the connection before Content-Length bytes is the only signal a client cannot mistake for
            // a complete response.
            LogMismatch(logger, file.Name, file.Digest.ToString(), failure);
            httpContext.Abort();
        }
    }

    private static async ValueTask<int> ReadAsync(Stream source, byte[] buffer, CancellationTokenSource idle, TimeSpan idleLimit)
    {
        idle.CancelAfter(idleLimit);
        var read = await source.ReadAsync(buffer.AsMemory(0, BufferSize), idle.Token).ConfigureAwait(false);
        // Stop the countdown while we write: a slow client is not the registry's silence.
        idle.CancelAfter(Timeout.InfiniteTimeSpan);
        return read;
    }

    private static bool Matches(IncrementalHash hash, Digest expected)
    {
        Span<byte> digest = stackalloc byte[32];
        hash.GetCurrentHash(digest);
        return Digest.Sha256(digest) == expected;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Aborted delivery of {File} ({Digest}): {Reason}")]
    private static partial void LogMismatch(ILogger logger, string file, string digest, string reason);
}
