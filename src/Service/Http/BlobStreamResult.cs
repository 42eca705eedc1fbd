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
/// counting as it goes. The Content-Length is the size the manifest promised. When the registry's connection breaks
/// or stalls midway, the rest is asked for again with a <c>Range</c> request for the same digest
/// (<see cref="BlobResponse.Resume"/>; from a registry without ranges, the whole blob again, skipping what was sent),
/// up to <see cref="MaxResumes"/> times and within <see cref="ResumeWithin"/> of the last byte received, so that the
/// client sees one uninterrupted response: systemd 262 keeps a partial file after a cut download and refuses to
/// update until it is vacuumed (docs/clients.md). Only bytes that do not match their digest, more bytes than
/// promised, or exhausted attempts abort the connection, so that the client can never take a wrong file for a
/// complete one.
/// </summary>
public sealed partial class BlobStreamResult(SysextFile file, BlobResponse blob, string repository, TimeProvider time) : IResult
{
    /// <summary>How many times one download is resumed at most.</summary>
    public const int MaxResumes = 3;

    /// <summary>
    /// How long after the registry's last byte a resume may still start: clients give up after about 60 s without a
    /// byte (systemd-pull), so the silence a client sees while we resume stays below that.
    /// </summary>
    public static readonly TimeSpan ResumeWithin = TimeSpan.FromSeconds(45);

    // What one connection holds while its client reads: this chunk plus what Kestrel buffers before a flush waits
    // (Kestrel:Limits:MaxResponseBufferSize). Small enough that 1,000 slow readers stay within the figure in
    // docs/configuration.md, and below the large object heap's 85,000 bytes, so that what slow readers held is
    // compacted and given back after they go; large enough for few syscalls per megabyte.
    private const int ChunkSize = 32 * 1024;
    private const int FillBytes = 32 * 1024;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var current = blob;
        var response = httpContext.Response;
        var logger = httpContext.RequestServices.GetRequiredService<ILogger<BlobStreamResult>>();
        var metrics = httpContext.RequestServices.GetRequiredService<SysextMetrics>();
        // Counted while it runs, so that what a burst of slow readers held is given back once they are all gone.
        using var open = httpContext.RequestServices.GetRequiredService<IdleMemoryTrim>().Open();
        var cancellationToken = httpContext.RequestAborted;
        // No limit on how long a blob takes, only on silence: an upstream that sends nothing for its own timeout
        // mid-blob is given up on (and resumed), so that a stalled upstream cannot hold the client's connection forever.
        var idleLimit = blob.IdleTimeout;
        try
        {
            if (blob.Length is { } announced && announced != file.Size)
            {
                LogMismatch(logger, file.Name, file.Digest.ToString(), $"registry announced {announced} bytes, manifest says {file.Size}");
                await ErrorResults.Text(StatusCodes.Status502BadGateway, "registry sent a blob of the wrong size").ExecuteAsync(httpContext).ConfigureAwait(false);
                return;
            }

            if (blob.Digest is { } labelled && labelled != file.Digest)
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

            var source = blob.Content!;
            var writer = response.BodyWriter;
            // Headers first: from then on the writer hands out the transport's own buffers.
            await response.StartAsync(cancellationToken).ConfigureAwait(false);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var lastByte = time.GetTimestamp();
            var resumes = 0;
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
                    string? broke;
                    var read = 0;
                    try
                    {
                        read = await FillAsync(source, memory, Math.Min(memory.Length, FillBytes), idleLimit, cancellationToken).ConfigureAwait(false);
                        broke = read == 0 ? $"registry ended the blob after {copied} bytes" : null;
                    }
                    catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                    {
                        broke = $"registry connection broke after {copied} bytes";
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        broke = $"registry sent nothing for {idleLimit} after {copied} bytes";
                    }

                    if (broke is not null)
                    {
                        // What this fill read is not advanced: it is asked for again from `copied`.
                        var resumed = await ResumeAsync(current, copied, broke, logger, lastByte, resumes, cancellationToken).ConfigureAwait(false);
                        if (resumed.Blob is not { } next)
                        {
                            failure = resumed.Failure;
                            break;
                        }

                        resumes = resumed.Attempts;
                        current.Dispose();
                        current = next;
                        source = next.Content!;
                        lastByte = time.GetTimestamp();
                        continue;
                    }

                    lastByte = time.GetTimestamp();
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
        finally
        {
            current.Dispose();
        }
    }

    /// <summary>
    /// The blob again from <paramref name="offset"/>, positioned there, or why not: no way to resume, attempts or
    /// time used up. A failed attempt (a 5xx, a refused range, a broken connection) is followed by the next.
    /// </summary>
    private async Task<(BlobResponse? Blob, int Attempts, string? Failure)> ResumeAsync(BlobResponse current, long offset, string broke, ILogger logger, long lastByte, int attempts, CancellationToken cancellationToken)
    {
        if (current.Resume is not { } resume)
        {
            return (null, attempts, broke);
        }

        while (true)
        {
            var left = ResumeWithin - time.GetElapsedTime(lastByte);
            if (attempts == MaxResumes || left <= TimeSpan.Zero)
            {
                return (null, attempts, $"{broke}; gave up after {attempts} resumes");
            }

            attempts++;
            LogResuming(logger, file.Name, file.Digest.ToString(), offset, attempts, broke);
            using var budget = new CancellationTokenSource(left, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budget.Token);
            BlobResponse? next = null;
            try
            {
                next = await resume(offset, linked.Token).ConfigureAwait(false);
                if (next.Content is null || (next.Length is { } length && length != file.Size) || (next.Offset != offset && next.Offset != 0))
                {
                    broke = $"resumed answer does not fit (offset {next.Offset}, length {next.Length})";
                    next.Dispose();
                    continue;
                }

                if (next.Offset == 0 && offset > 0)
                {
                    // A registry without ranges sends it all again: skip what the client already has.
                    await SkipAsync(next.Content, offset, next.IdleTimeout, linked.Token).ConfigureAwait(false);
                }

                return (next, attempts, null);
            }
            catch (Exception e) when (e is RegistryException or IOException or HttpRequestException
                || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                next?.Dispose();
                broke = $"resuming failed: {e.Message}";
            }
        }
    }

    private async Task SkipAsync(Stream source, long count, TimeSpan idleLimit, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        while (count > 0)
        {
            var read = await FillAsync(source, buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), (int)Math.Min(buffer.Length, count), idleLimit, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException("the registry ended the blob before the offset to resume from");
            }

            count -= read;
        }
    }

    /// <summary>
    /// Reads until <paramref name="fill"/> bytes or the end, restarting the countdown with every read: what is
    /// limited is the registry's silence, not how long a slow but steady registry takes to fill the buffer. The
    /// countdown runs on the injected clock and only while reading, so that the time we spend writing to a slow
    /// client is not held against the registry.
    /// </summary>
    private async ValueTask<int> FillAsync(Stream source, Memory<byte> buffer, int fill, TimeSpan idleLimit, CancellationToken cancellationToken)
    {
        using var idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, idle.Token);
        var total = 0;
        while (total < fill)
        {
            idle.CancelAfter(idleLimit);
            var read = await source.ReadAsync(buffer[total..], linked.Token).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    private static bool Matches(IncrementalHash hash, Digest expected)
    {
        Span<byte> digest = stackalloc byte[32];
        hash.GetCurrentHash(digest);
        return Digest.Sha256(digest) == expected;
    }

    /// <summary>Values from outside, escaped (<see cref="LogText"/>) whatever the console formatter.</summary>
    private static void LogMismatch(ILogger logger, string file, string digest, string reason) =>
        LogMismatchRaw(logger, LogText.Escape(file), LogText.Escape(digest), LogText.Escape(reason));

    [LoggerMessage(EventId = 4101, Level = LogLevel.Error, Message = "Aborted delivery of {File} ({Digest}): {Reason}")]
    private static partial void LogMismatchRaw(ILogger logger, string file, string digest, string reason);

    /// <summary>Values from outside, escaped (<see cref="LogText"/>) whatever the console formatter.</summary>
    private static void LogResuming(ILogger logger, string file, string digest, long offset, int attempt, string reason) =>
        LogResumingRaw(logger, LogText.Escape(file), LogText.Escape(digest), offset, attempt, LogText.Escape(reason));

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Resuming {File} ({Digest}) from byte {Offset}, attempt {Attempt}: {Reason}")]
    private static partial void LogResumingRaw(ILogger logger, string file, string digest, long offset, int attempt, string reason);
}
