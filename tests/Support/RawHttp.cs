using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// The one raw HTTP client of the tests. Sends a request line exactly as written (HttpClient normalises targets:
/// it decodes %2e and removes dot segments, which would hide what a hostile client can really send) and reads the
/// answer off the socket until the server closes or resets it, within a timeout, so that a server that neither
/// finishes nor resets fails the test instead of hanging it.
/// </summary>
internal static class RawHttp
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static async Task<RawResponse> SendAsync(Uri server, string target, string method = "GET", string extraHeaders = "", TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        using var patience = new CancellationTokenSource(limit);
        using var tcp = new TcpClient();
        using var received = new MemoryStream();
        try
        {
            await tcp.ConnectAsync(server.Host, server.Port, patience.Token);
            var stream = tcp.GetStream();
            var request = $"{method} {target} HTTP/1.1\r\nHost: {server.Authority}\r\nConnection: close\r\n{extraHeaders}\r\n";
            await stream.WriteAsync(Encoding.Latin1.GetBytes(request), patience.Token);
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, patience.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // A reset: what was received until then is the answer.
        }
        catch (OperationCanceledException e)
        {
            throw new TimeoutException($"no end after {limit} and {received.Length} bytes", e);
        }

        return RawResponse.Parse(received.ToArray());
    }
}

/// <summary>A response as read off the socket; no status when the server reset before the headers.</summary>
internal sealed record RawResponse(int? Status, string Head, long? ContentLength, byte[] BodyBytes)
{
    public string Body => Encoding.Latin1.GetString(BodyBytes);

    /// <summary>The body as the client gets it: a chunked body decoded, so two servers' answers compare byte for byte.</summary>
    public byte[] Content => Header("Transfer-Encoding") is { } encoding && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase)
        ? Unchunk(BodyBytes)
        : BodyBytes;

    /// <summary>A header's value (the last one of that name), or null.</summary>
    public string? Header(string name) => Head.Split("\r\n").Skip(1)
        .Select(line => (Line: line, Colon: line.IndexOf(':', StringComparison.Ordinal)))
        .Where(h => h.Colon > 0 && h.Line[..h.Colon].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
        .Select(h => h.Line[(h.Colon + 1)..].Trim())
        .LastOrDefault();

    public static RawResponse Parse(byte[] bytes)
    {
        var split = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        if (split < 0)
        {
            return new RawResponse(null, Encoding.Latin1.GetString(bytes), null, []);
        }

        var head = Encoding.Latin1.GetString(bytes, 0, split);
        var status = int.Parse(head.Split(' ', 3)[1], CultureInfo.InvariantCulture);
        var length = head.Split("\r\n").Where(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            .Select(l => (long?)long.Parse(l["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture)).SingleOrDefault();
        return new RawResponse(status, head, length, bytes[(split + 4)..]);
    }

    private static byte[] Unchunk(byte[] chunked)
    {
        using var body = new MemoryStream();
        var position = 0;
        while (true)
        {
            var end = chunked.AsSpan(position).IndexOf("\r\n"u8);
            Assert.True(end >= 0, "a chunked body ends before its last chunk");
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
