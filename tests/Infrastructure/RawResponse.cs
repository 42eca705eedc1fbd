using System.Net.Sockets;
using System.Text;

namespace SysextFunctions.Tests.Infrastructure;

/// <summary>
/// One request sent exactly as written (see <see cref="RawHttp"/>), its answer kept as bytes: status, headers
/// and body (a chunked body decoded), so two servers' answers can be compared byte for byte.
/// </summary>
internal sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public static async Task<RawResponse> SendAsync(Uri server, string method, string target)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes($"{method} {target} HTTP/1.1\r\nHost: {server.Authority}\r\nConnection: close\r\n\r\n"));
        using var all = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await stream.CopyToAsync(all, timeout.Token);
        var bytes = all.ToArray();
        var split = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        Assert.True(split > 0, $"no complete head in {bytes.Length} bytes");
        var lines = Encoding.Latin1.GetString(bytes, 0, split).Split("\r\n");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        var body = bytes[(split + 4)..];
        if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = Unchunk(body);
        }

        return new RawResponse(int.Parse(lines[0].Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture), headers, body);
    }

    private static byte[] Unchunk(byte[] chunked)
    {
        using var body = new MemoryStream();
        var position = 0;
        while (true)
        {
            var end = chunked.AsSpan(position).IndexOf("\r\n"u8);
            var size = Convert.ToInt32(Encoding.ASCII.GetString(chunked, position, end).Split(';')[0], 16);
            position += end + 2;
            if (size == 0)
            {
                return body.ToArray();
            }

            body.Write(chunked, position, size);
            position += size + 2;
        }
    }
}
