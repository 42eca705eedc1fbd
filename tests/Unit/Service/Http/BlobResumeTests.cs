using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using SysextFunctions.Http;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Unit.Service.Http;

/// <summary>
/// A blob whose registry connection breaks or stalls midway reaches the client as one uninterrupted response,
/// resumed with a <c>Range</c> request for the same digest; only wrong bytes or exhausted attempts cut it. Against an
/// in-memory registry whose blob bodies break on cue, on a fake clock that moves only when the test says.
/// </summary>
public class BlobResumeTests
{
    private const int Size = 300_000;
    private readonly FakeRegistry _registry = new();
    private readonly FakeClock _time = new() { Horizon = TimeSpan.FromTicks(-1) };
    private readonly byte[] _content = Payloads.Random(Size, 19);
    private readonly ConcurrentQueue<string> _blobRequests = new();

    private InMemoryProxy Proxy() => new(_registry, _time, new Dictionary<string, string?>
    {
        ["Proxy:BlobDelivery"] = "stream",
        ["Registry:Timeout"] = "00:00:10",
    });

    /// <summary>Answers the blob requests in turn: each answer gets the request's Range (or null) and returns a response, or null to let the registry answer.</summary>
    private void Blobs(params Func<RangeItemHeaderValue?, HttpResponseMessage?>[] answers)
    {
        _registry.Push("sysexts/tool", "v1", _content);
        var next = -1;
        _registry.Intercept = request =>
        {
            if (!request.RequestUri!.AbsolutePath.Contains("/blobs/", StringComparison.Ordinal))
            {
                return null;
            }

            var range = request.Headers.Range?.Ranges.Single();
            _blobRequests.Enqueue(range is null ? "all" : $"from {range.From}");
            var i = Interlocked.Increment(ref next);
            return i < answers.Length ? answers[i](range) : null;
        };
    }

    /// <summary>The blob from <paramref name="range"/> (all of it without), breaking after <paramref name="cutAfter"/> bytes.</summary>
    private HttpResponseMessage Broken(RangeItemHeaderValue? range, int cutAfter, TaskCompletionSource? stalled = null)
    {
        var from = (int)(range?.From ?? 0);
        var response = new HttpResponseMessage(range is null ? HttpStatusCode.OK : HttpStatusCode.PartialContent)
        {
            Content = new StreamContent(new BreakingStream(_content[from..], cutAfter, stalled)),
        };
        response.Content.Headers.ContentLength = Size - from;
        if (range is not null)
        {
            response.Content.Headers.ContentRange = new ContentRangeHeaderValue(from, Size - 1, Size);
        }

        return response;
    }

    private async Task<byte[]> GetFileAsync(InMemoryProxy proxy)
    {
        var response = await proxy.GetAsync("/sysexts/tool/tool-v1.raw");
        Assert.Equal(200, response.StatusCode);
        return ((MemoryStream)response.Body).ToArray();
    }

    [Fact]
    public async Task File_ResetMidBlob_ResumedWithRangeAndDeliveredWhole()
    {
        Blobs(range => Broken(range, 100_000));
        await using var proxy = Proxy();

        var body = await GetFileAsync(proxy);

        Assert.Equal(_content, body);
        var requests = _blobRequests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Equal("all", requests[0]);
        // From a whole number of fills before the cut: what was read but not yet passed on is asked for again.
        Assert.StartsWith("from ", requests[1], StringComparison.Ordinal);
        Assert.InRange(long.Parse(requests[1][5..], System.Globalization.CultureInfo.InvariantCulture), 0, 100_000);
    }

    [Fact]
    public async Task File_StallMidBlob_ResumedAfterTheIdleTimeout()
    {
        var stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Blobs(range => Broken(range, 100_000, stalled));
        await using var proxy = Proxy();

        var download = GetFileAsync(proxy);
        await stalled.Task;
        _time.Advance(TimeSpan.FromSeconds(10));
        var body = await download;

        Assert.Equal(_content, body);
        Assert.Equal(2, _blobRequests.Count);
    }

    [Fact]
    public async Task File_ResumeAnswered503ThenRange_DeliveredWhole()
    {
        Blobs(range => Broken(range, 50_000), _ => FakeRegistry.Error(HttpStatusCode.ServiceUnavailable, "UNAVAILABLE"));
        await using var proxy = Proxy();

        var body = await GetFileAsync(proxy);

        Assert.Equal(_content, body);
        Assert.Equal(3, _blobRequests.Count);
    }

    [Fact]
    public async Task File_RegistryWithoutRange_WholeBlobAgainSkippingWhatWasSent()
    {
        // The second answer ignores the Range and sends all of it with 200.
        Blobs(range => Broken(range, 280_000), _ => Broken(null, int.MaxValue));
        await using var proxy = Proxy();

        var body = await GetFileAsync(proxy);

        Assert.Equal(_content, body);
        Assert.Equal(2, _blobRequests.Count);
    }

    [Fact]
    public async Task File_BreaksEveryTime_CutAfterMaxResumes()
    {
        Blobs(Enumerable.Repeat<Func<RangeItemHeaderValue?, HttpResponseMessage?>>(range => Broken(range, 1_000), 10).ToArray());
        await using var proxy = Proxy();

        var response = await proxy.GetAsync("/sysexts/tool/tool-v1.raw");

        Assert.True(response.Body.Length < Size, $"client got {response.Body.Length} of {Size} bytes");
        Assert.Equal(1 + BlobStreamResult.MaxResumes, _blobRequests.Count);
    }

    [Fact]
    public async Task File_WrongBytes_CutWithoutResuming()
    {
        var wrong = (byte[])_content.Clone();
        wrong[Size / 2] ^= 0xFF;
        Blobs(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(wrong) });
        await using var proxy = Proxy();

        var response = await proxy.GetAsync("/sysexts/tool/tool-v1.raw");

        Assert.True(response.Body.Length < Size, $"client got {response.Body.Length} of {Size} bytes");
        Assert.Single(_blobRequests);
        Assert.NotEqual(Convert.ToHexStringLower(SHA256.HashData(wrong)), Convert.ToHexStringLower(SHA256.HashData(_content)));
    }

    /// <summary>Sends <paramref name="data"/>, but only <paramref name="cutAfter"/> bytes of it: then a reset, or (with <paramref name="stalled"/>) silence until cancelled.</summary>
    private sealed class BreakingStream(byte[] data, int cutAfter, TaskCompletionSource? stalled) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= cutAfter && _position < data.Length)
            {
                if (stalled is null)
                {
                    throw new IOException("connection reset by the registry (test)");
                }

                stalled.TrySetResult();
                // simulates a slow peer: the registry's stream stalls, until the reader cancels it
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            var limit = Math.Min(_position < cutAfter ? cutAfter : data.Length, data.Length);
            var count = Math.Min(buffer.Length, limit - _position);
            data.AsMemory(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
