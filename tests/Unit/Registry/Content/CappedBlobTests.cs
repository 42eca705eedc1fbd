using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Unit.Registry.Content;

/// <summary>The one capped-and-verified read of a small blob, from a registry (route table) or from a stream.</summary>
public class CappedBlobTests
{
    private const string Registry = "https://registry.test";
    private static readonly string SignatureDigest = "sha256:" + new string('b', 64);

    private static RegistryClient Client(RouteHandler routes, TimeProvider time) =>
        new(new HttpClient(routes), new Uri(Registry), new UpstreamTimeouts(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10)), time, NullLogger<RegistryClient>.Instance);

    private static Digest DigestOf(byte[] bytes) => Digest.Sha256(SHA256.HashData(bytes));

    [Fact]
    public async Task ReadAsync_LargerThanCap_Refused()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/blobs/{SignatureDigest}", _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(new byte[2048]) });

        var time = new FakeTimeProvider();
        var e = await Assert.ThrowsAsync<RegistryException>(() => CappedBlob.ReadAsync(Client(routes, time), "sysexts/tool", Digest.Parse(SignatureDigest), 1024, time));

        Assert.Equal(RegistryFailure.InvalidResponse, e.Failure);
        Assert.Contains("larger than 1024 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_WrongBytes_Refused()
    {
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/sysexts/tool/blobs/{SignatureDigest}", _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent("forged"u8.ToArray()) });

        var time = new FakeTimeProvider();
        var e = await Assert.ThrowsAsync<RegistryException>(() => CappedBlob.ReadAsync(Client(routes, time), "sysexts/tool", Digest.Parse(SignatureDigest), 1024, time));

        Assert.Equal(RegistryFailure.InvalidResponse, e.Failure);
        Assert.Contains("does not match its digest", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_BodyStalls_TimesOutOnTheInjectedClock()
    {
        var stalled = new StalledStream();
        var source = Substitute.For<IOciSource>();
        source.GetBlobAsync("tool", Arg.Any<Digest>(), true, Arg.Any<CancellationToken>()).Returns(BlobResponse.FromStream(stalled, 10));
        var time = new FakeTimeProvider();

        var read = CappedBlob.ReadAsync(source, "tool", Digest.Parse(SignatureDigest), 1024, time);
        await stalled.Reading.WaitAsync(TestContext.Current.CancellationToken);
        Assert.False(read.IsCompleted);
        time.Advance(CappedBlob.ReadTimeout);

        var e = await Assert.ThrowsAsync<RegistryException>(() => read);
        Assert.Equal(RegistryFailure.Timeout, e.Failure);
    }

    /// <summary>
    /// Announced length (null: none, as with a chunked body) against the bytes that come: the exact bytes when they
    /// are the digest's and within the cap, whatever was announced; refused beyond the cap however little was announced.
    /// </summary>
    [Theory]
    [InlineData(100, 100L, 1024, true)]
    [InlineData(100, null, 1024, true)]
    [InlineData(40_000, null, 64 * 1024, true)]      // beyond the first buffer: it grows
    [InlineData(40_000, 10L, 64 * 1024, true)]       // more than announced, still within the cap
    [InlineData(64 * 1024, 1L, 64 * 1024, true)]     // exactly the cap
    [InlineData(64 * 1024 + 1, null, 64 * 1024, false)]
    [InlineData(64 * 1024 + 1, 1L, 64 * 1024, false)]
    [InlineData(0, 0L, 1024, true)]
    public async Task ReadAsync_Stream_ExactBytesWithinCapElseRefused(int size, long? announced, int cap, bool accepted)
    {
        var bytes = RandomNumberGenerator.GetBytes(size);
        using var stream = new MemoryStream(bytes);

        var read = CappedBlob.ReadAsync(stream, announced, DigestOf(bytes), cap, "blob", TestContext.Current.CancellationToken);

        if (accepted)
        {
            Assert.Equal(bytes, await read);
        }
        else
        {
            var e = await Assert.ThrowsAsync<RegistryException>(() => read);
            Assert.Contains($"larger than {cap} bytes", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ReadAsync_StreamAnnouncedOverCap_RefusedUnread()
    {
        using var stream = new MemoryStream(new byte[10]);

        var e = await Assert.ThrowsAsync<RegistryException>(() => CappedBlob.ReadAsync(stream, 2048, DigestOf(new byte[10]), 1024, "blob", TestContext.Current.CancellationToken));

        Assert.Equal(RegistryFailure.InvalidResponse, e.Failure);
        Assert.Equal(0, stream.Position);
    }

    /// <summary>A body that sends nothing until the read is cancelled; <see cref="Reading"/> completes at the first read.</summary>
    private sealed class StalledStream : Stream
    {
        private readonly TaskCompletionSource _reading = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Reading => _reading.Task;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using var registration = cancellationToken.Register(() => cancelled.TrySetCanceled(cancellationToken));
            _reading.TrySetResult();
            await cancelled.Task.ConfigureAwait(false);
            return 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
