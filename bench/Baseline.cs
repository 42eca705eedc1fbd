using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace SysextFunctions.Bench;

/// <summary>The baseline, the original sysext-oci-proxy's algorithm: the tag list, then one manifest GET per tag, one after another, on one kept-alive connection.</summary>
internal static class Baseline
{
    public static async Task<byte[]> ChecksumsAsync(HttpClient http, Uri registry, string repository)
    {
        using var tagsResponse = await http.GetAsync(new Uri(registry, $"/v2/{repository}/tags/list"));
        tagsResponse.EnsureSuccessStatusCode();
        using var tags = JsonDocument.Parse(await tagsResponse.Content.ReadAsByteArrayAsync());
        var name = repository[(repository.LastIndexOf('/') + 1)..];
        var lines = new List<(string Name, string Hex)>();
        foreach (var tag in tags.RootElement.GetProperty("tags").EnumerateArray())
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(registry, $"/v2/{repository}/manifests/{tag.GetString()}"));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(Registry.Oci.MediaTypes.OciManifest));
            using var response = await http.SendAsync(request);
            response.EnsureSuccessStatusCode();
            using var manifest = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
            var digest = manifest.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!;
            lines.Add(($"{name}-{tag.GetString()}.raw", digest["sha256:".Length..]));
        }

        var text = new StringBuilder();
        foreach (var (file, hex) in lines.OrderBy(l => l.Name, StringComparer.Ordinal))
        {
            text.Append(hex).Append("  ").Append(file).Append('\n');
        }

        return Encoding.ASCII.GetBytes(text.ToString());
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
