using System.Net;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Registry.Remote.Auth;
using SysextFunctions.Tests.Support;
using SysextFunctions.Tests.Unit.Registry.Remote.Auth;

namespace SysextFunctions.Tests.Unit.Registry.Remote;

/// <summary>
/// Every body from upstream goes through one capped reader: bodies sent without Content-Length (chunked) are
/// refused once they pass their cap, never read whole first.
/// </summary>
public class CappedBodyTests
{
    private const string Registry = AuthHandlerTests.Registry;

    /// <summary>Far beyond every cap: a reader that buffers the whole body before checking would read all of it.</summary>
    private const long Huge = 64L * 1024 * 1024;

    /// <summary>What a reader may take beyond a cap before it notices: one read of its chunk size.</summary>
    private const int Slack = 64 * 1024;

    private static RegistryClient Client(RouteHandler routes, RegistryCredentials credentials) => AuthHandlerTests.Client(routes, credentials);

    [Fact]
    public async Task ReadAsync_ChunkedBodyOverCap_RefusedSoonAfterTheCap()
    {
        var body = new CountingStream(Huge);
        using var content = new StreamContent(body);
        Assert.Null(content.Headers.ContentLength);

        var e = await Assert.ThrowsAsync<RegistryException>(() => CappedBody.ReadAsync(content, 1000, "body", CancellationToken.None));

        Assert.Equal(RegistryFailure.InvalidResponse, e.Failure);
        Assert.InRange(body.BytesRead, 1001, 1000 + Slack);
    }

    [Fact]
    public async Task TokenResponse_ChunkedAndOversized_RefusedAtTheCap()
    {
        var body = new CountingStream(Huge, (byte)' ');
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/tool/tags/list", _ =>
            {
                var challenge = new HttpResponseMessage(HttpStatusCode.Unauthorized);
                challenge.Headers.WwwAuthenticate.ParseAdd($"Bearer realm=\"{Registry}/token\",service=\"registry.test\"");
                return challenge;
            })
            .On(HttpMethod.Get, $"{Registry}/token?service=registry.test&scope=repository%3Atool%3Apull", _ => new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StreamContent(body) { Headers = { { "Content-Type", "application/json" } } },
            });

        var e = await Assert.ThrowsAsync<RegistryException>(() => Client(routes, RegistryCredentials.Anonymous).ListTagsAsync("tool"));

        Assert.Equal(RegistryFailure.InvalidResponse, e.Failure);
        Assert.Contains("token response", e.Message, StringComparison.Ordinal);
        Assert.InRange(body.BytesRead, TokenEndpoint.MaxResponseBytes + 1, TokenEndpoint.MaxResponseBytes + Slack);
    }

    [Fact]
    public async Task ErrorBody_ChunkedAndOversized_StatusKeptBodyReadOnlyToItsCap()
    {
        var body = new CountingStream(Huge, (byte)' ');
        var routes = new RouteHandler()
            .On(HttpMethod.Get, $"{Registry}/v2/tool/blobs/{Digest.Sha256(new byte[32])}", _ => new HttpResponseMessage(HttpStatusCode.NotFound)
            {
                Content = new StreamContent(body) { Headers = { { "Content-Type", "application/json" } } },
            });

        var e = await Assert.ThrowsAsync<RegistryException>(() => Client(routes, RegistryCredentials.Anonymous).GetBlobAsync("tool", Digest.Sha256(new byte[32]), followRedirects: true));

        Assert.Equal(RegistryFailure.NotFound, e.Failure);
        Assert.Null(e.Code);
        Assert.InRange(body.BytesRead, ErrorResponse.MaxBodyBytes + 1, ErrorResponse.MaxBodyBytes + Slack);
    }

    /// <summary>A body of <c>length</c> bytes that cannot tell its length (so it goes out chunked), counting what was read.</summary>
    private sealed class CountingStream(long length, byte fill = (byte)'x') : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - BytesRead);
            buffer[..n].Fill(fill);
            BytesRead += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
