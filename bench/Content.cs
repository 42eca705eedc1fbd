using System.Text;
using SysextFunctions.Tests.Infrastructure;

namespace SysextFunctions.Bench;

/// <summary>What the benchmark pushes: many small artifacts, and one large blob streamed from a pattern.</summary>
internal sealed partial class Side
{
    private static async Task<string> PushBigAsync(OciPusher pusher)
    {
        var digest = "sha256:" + Convert.ToHexStringLower(await SHA256OfAsync(new PatternStream(BlobBytes)));
        using var content = new StreamContent(new PatternStream(BlobBytes), 1 << 20);
        content.Headers.ContentLength = BlobBytes;
        await pusher.PushBlobAsync("bench/big", digest, content);
        await pusher.PushOrasManifestAsync("bench/big", "v1", "big-v1.raw", digest, BlobBytes);
        return digest;
    }

    /// <summary>A repository of <paramref name="count"/> small single-layer artifacts, tags v1.0.0, v1.0.1, …</summary>
    private static async Task PushManyAsync(OciPusher pusher, string repository, int count)
    {
        var name = repository[(repository.LastIndexOf('/') + 1)..];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var tag = $"v1.{i / 100}.{i % 100}";
            await pusher.PushOrasArtifactAsync(repository, tag, $"{name}-{tag}.raw", Encoding.ASCII.GetBytes($"{repository} layer {i}\n"));
        });
    }

    private static async Task<byte[]> SHA256OfAsync(Stream stream)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }

        return hash.GetHashAndReset();
    }
}

/// <summary>Deterministic bytes of any length without holding them: the same content on every read.</summary>
internal sealed class PatternStream(long length) : Stream
{
    private static readonly byte[] Block = MakeBlock();
    private long _position;

    private static byte[] MakeBlock()
    {
        var block = new byte[1 << 20];
        new Random(42).NextBytes(block);
        return block;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, length - _position);
        var written = 0;
        while (written < n)
        {
            var inBlock = (int)((_position + written) % Block.Length);
            var chunk = Math.Min(n - written, Block.Length - inBlock);
            Block.AsSpan(inBlock, chunk).CopyTo(buffer[written..]);
            // Each MiB starts differently from the last, so no two blocks of the blob are equal.
            if (inBlock == 0)
            {
                buffer[written] ^= (byte)((_position + written) / Block.Length);
            }

            written += chunk;
        }

        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
