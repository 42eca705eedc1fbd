using System.Security.Cryptography;

namespace SysextFunctions.Registry.Content;

/// <summary>
/// The one way a small blob (a config, a signature payload or bundle, a rollout policy, a layout's manifest) is read:
/// refused beyond a cap before and while reading, and checked against the digest that names it (OCI image spec,
/// descriptor.md: content must be verified against its digest). Failures are <see cref="RegistryException"/>s.
/// </summary>
public static class CappedBlob
{
    /// <summary>How long one small blob may take from a registry, whatever the caller's own deadline.</summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    private const int InitialBuffer = 16 * 1024;

    /// <summary><paramref name="digest"/>'s bytes from <paramref name="source"/>, at most <paramref name="cap"/> of them.</summary>
    public static async Task<byte[]> ReadAsync(IOciSource source, string repository, Digest digest, int cap, TimeProvider time, CancellationToken cancellationToken = default)
    {
        var what = $"blob '{repository}@{digest}'";
        if (!digest.IsSha256)
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, $"{what} is not a sha256 blob");
        }

        using var deadline = new CancellationTokenSource(ReadTimeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            using var blob = await source.GetBlobAsync(repository, digest, followRedirects: true, timeout.Token).ConfigureAwait(false);
            return blob.Content is { } stream
                ? await ReadAsync(stream, blob.Length, digest, cap, what, timeout.Token).ConfigureAwait(false)
                : throw new RegistryException(RegistryFailure.InvalidResponse, $"{what} was not sent");
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException(RegistryFailure.Timeout, $"{what} did not arrive in time", e);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new RegistryException(RegistryFailure.Unavailable, $"connection broke while reading {what}", e);
        }
    }

    /// <summary>The bytes of <paramref name="content"/>, which should be <paramref name="digest"/>'s, at most <paramref name="cap"/> of them.</summary>
    /// <param name="length">The length announced for it, if any: refused at once when over the cap.</param>
    /// <param name="what">Names the blob in the failure's message.</param>
    public static async Task<byte[]> ReadAsync(Stream content, long? length, Digest digest, int cap, string what, CancellationToken cancellationToken = default)
    {
        if (length > cap)
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, $"{what} is larger than {cap} bytes");
        }

        // Sized by the announced length, not the cap (a layout's manifest may be capped at 4 MiB but is a few KiB),
        // and one byte more, so that a body longer than announced shows; grown up to the cap when it is.
        var buffer = new byte[Math.Min(cap, length is >= 0 and var announced ? announced : InitialBuffer) + 1];
        var read = 0;
        int chunk;
        while ((chunk = await content.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false)) > 0)
        {
            read += chunk;
            if (read > cap)
            {
                throw new RegistryException(RegistryFailure.InvalidResponse, $"{what} is larger than {cap} bytes");
            }

            if (read == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(cap + 1L, buffer.Length * 2L));
            }
        }

        return Digest.Sha256(SHA256.HashData(buffer.AsSpan(0, read))) == digest
            ? buffer[..read]
            : throw new RegistryException(RegistryFailure.InvalidResponse, $"{what} does not match its digest");
    }
}
