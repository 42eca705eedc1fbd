namespace SysextFunctions.Registry.Remote;

/// <summary>
/// The one way a whole body from upstream (a manifest, a tag list, a token, an error) is read: never more than a
/// cap. A Content-Length over the cap is refused before reading; a body without one (chunked) is counted as it
/// arrives and refused as soon as it passes the cap, so an endless or huge answer is never buffered whole.
/// Blobs are not read whole at all: they stream.
/// </summary>
internal static class CappedBody
{
    private const int ChunkSize = 16 * 1024;

    /// <exception cref="RegistryException">InvalidResponse when larger than <paramref name="cap"/>; Unavailable when the connection broke.</exception>
    public static async Task<byte[]> ReadAsync(HttpContent content, int cap, string what, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > cap)
        {
            throw TooLarge(what, cap);
        }

        try
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream(content.Headers.ContentLength is { } length ? (int)length : ChunkSize);
            var chunk = new byte[ChunkSize];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > cap)
                {
                    throw TooLarge(what, cap);
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new RegistryException(RegistryFailure.Unavailable, $"registry connection broke while reading {what}", e);
        }
    }

    private static RegistryException TooLarge(string what, int cap) =>
        new(RegistryFailure.InvalidResponse, $"{what} is larger than {cap} bytes");
}
