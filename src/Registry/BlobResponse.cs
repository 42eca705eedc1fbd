using SysextFunctions.Registry.Content;

namespace SysextFunctions.Registry;

/// <summary>Either an open blob stream, or the storage URL the source redirected to.</summary>
public sealed class BlobResponse : IDisposable
{
    private readonly IDisposable? _owner;

    private BlobResponse(Stream? content, long? length, Uri? redirectTo, IDisposable? owner, Digest? digest = null, TimeSpan? idleTimeout = null, long offset = 0, Func<long, CancellationToken, Task<BlobResponse>>? resume = null)
    {
        Offset = offset;
        Resume = resume;
        Content = content;
        IdleTimeout = idleTimeout ?? Timeout.InfiniteTimeSpan;
        Length = length;
        Digest = digest;
        RedirectTo = redirectTo;
        _owner = owner;
    }

    /// <summary>The blob's bytes, when not redirected.</summary>
    public Stream? Content { get; }

    /// <summary>The whole blob's length as the source announced it (for a resumed answer, what it sent plus <see cref="Offset"/>), if it did.</summary>
    public long? Length { get; }

    /// <summary>The digest the source labelled the bytes with (Docker-Content-Digest), if it did.</summary>
    public Digest? Digest { get; }

    public Uri? RedirectTo { get; }

    /// <summary>Where in the blob <see cref="Content"/> starts: 0, or the offset a resumed (<c>Range</c>) request asked for.</summary>
    public long Offset { get; }

    /// <summary>
    /// Asks the source again for the same blob from an offset (an HTTP <c>Range</c> request), for whoever streams
    /// <see cref="Content"/> and lost it midway; null when the source cannot. The answer's <see cref="Offset"/> says
    /// where its content starts: the offset asked for, or 0 from a source that ignored the range.
    /// </summary>
    public Func<long, CancellationToken, Task<BlobResponse>>? Resume { get; }

    /// <summary>
    /// How long the source may fall silent in the middle of <see cref="Content"/> before whoever streams it gives
    /// up: the upstream's <see cref="UpstreamTimeouts.Idle"/>. The whole blob may take as long as it takes.
    /// </summary>
    public TimeSpan IdleTimeout { get; }

    public static BlobResponse Redirect(Uri location) => new(null, null, location, null);

    /// <param name="owner">Disposed with the response, e.g. the HTTP response the stream belongs to.</param>
    /// <param name="digest">The digest the source labelled the bytes with, if it did.</param>
    /// <param name="idleTimeout">See <see cref="IdleTimeout"/>; no limit when null.</param>
    /// <param name="offset">See <see cref="Offset"/>.</param>
    /// <param name="resume">See <see cref="Resume"/>.</param>
    public static BlobResponse FromStream(Stream content, long? length, IDisposable? owner = null, Digest? digest = null, TimeSpan? idleTimeout = null, long offset = 0, Func<long, CancellationToken, Task<BlobResponse>>? resume = null) =>
        new(content, length, null, owner, digest, idleTimeout, offset, resume);

    public void Dispose()
    {
        Content?.Dispose();
        _owner?.Dispose();
    }
}
