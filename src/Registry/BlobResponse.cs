using SysextFunctions.Registry.Content;

namespace SysextFunctions.Registry;

/// <summary>Either an open blob stream, or the storage URL the source redirected to.</summary>
public sealed class BlobResponse : IDisposable
{
    private readonly IDisposable? _owner;

    private BlobResponse(Stream? content, long? length, Uri? redirectTo, IDisposable? owner, Digest? digest = null, TimeSpan? idleTimeout = null)
    {
        Content = content;
        IdleTimeout = idleTimeout ?? Timeout.InfiniteTimeSpan;
        Length = length;
        Digest = digest;
        RedirectTo = redirectTo;
        _owner = owner;
    }

    /// <summary>The blob's bytes, when not redirected.</summary>
    public Stream? Content { get; }

    /// <summary>The length the source announced, if it did.</summary>
    public long? Length { get; }

    /// <summary>The digest the source labelled the bytes with (Docker-Content-Digest), if it did.</summary>
    public Digest? Digest { get; }

    public Uri? RedirectTo { get; }

    /// <summary>
    /// How long the source may fall silent in the middle of <see cref="Content"/> before whoever streams it gives
    /// up: the upstream's <see cref="UpstreamTimeouts.Idle"/>. The whole blob may take as long as it takes.
    /// </summary>
    public TimeSpan IdleTimeout { get; }

    public static BlobResponse Redirect(Uri location) => new(null, null, location, null);

    /// <param name="owner">Disposed with the response, e.g. the HTTP response the stream belongs to.</param>
    /// <param name="digest">The digest the source labelled the bytes with, if it did.</param>
    /// <param name="idleTimeout">See <see cref="IdleTimeout"/>; no limit when null.</param>
    public static BlobResponse FromStream(Stream content, long? length, IDisposable? owner = null, Digest? digest = null, TimeSpan? idleTimeout = null) =>
        new(content, length, null, owner, digest, idleTimeout);

    public void Dispose()
    {
        Content?.Dispose();
        _owner?.Dispose();
    }
}
