using System.Buffers;
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
/// Streams a blob from the registry to the client with a pooled buffer, hashing and counting as it goes. The
/// Content-Length is the size the manifest promised; if the registry sends other bytes or fewer, the connection
/// is aborted so that the client can never take a wrong file for a complete one.
/// </summary>
public sealed partial class BlobStreamResult(SysextFile file, BlobResponse blob) : IResult
{
    private const int BufferSize = 128 * 1024;

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
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long copied = 0;
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                copied += read;
                if (copied > file.Size)
                {
                    break;
                }

                hash.AppendData(buffer, 0, read);
                await response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            LogMismatch(logger, file.Name, file.Digest.ToString(), $"registry connection broke after {copied} bytes");
            httpContext.Abort();
            return;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
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
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Aborted delivery of {File} ({Digest}): {Reason}")]
    private static partial void LogMismatch(ILogger logger, string file, string digest, string reason);
}
