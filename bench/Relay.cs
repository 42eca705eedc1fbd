using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace SysextFunctions.Bench;

/// <summary>
/// A TCP relay in front of a server that delays each direction by half a round trip: a registry across a network.
/// Bytes keep their order and are never delayed one by one: each chunk read is written RTT/2 after it arrived. A new
/// connection's first bytes to the server wait one more round trip, the TCP handshake a real network costs.
/// Both sides of a comparison go through the same relay.
/// </summary>
internal sealed class LatencyRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly IPEndPoint _target;
    private readonly long _halfTicks;
    private readonly Task _accepting;
    private int _connections;

    private LatencyRelay(Uri target, TimeSpan rtt)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        Rtt = rtt;
        _halfTicks = (long)(rtt.TotalSeconds / 2 * Stopwatch.Frequency);
        _listener.Start(512);
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync();
    }

    public Uri Url { get; }

    public TimeSpan Rtt { get; }

    /// <summary>Connections opened through the relay so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public static LatencyRelay Start(Uri target, TimeSpan rtt) => new(target, rtt);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = RelayAsync(client, Stopwatch.GetTimestamp());
        }
    }

    private async Task RelayAsync(Socket client, long accepted)
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using (client)
        {
            client.NoDelay = true;
            try
            {
                await server.ConnectAsync(_target, _stop.Token);
                // The client's first bytes could only leave after the handshake: one round trip after it connected.
                await Task.WhenAll(
                    PumpAsync(client, server, accepted + 2 * _halfTicks),
                    PumpAsync(server, client, 0));
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
            {
            }
        }
    }

    private async Task PumpAsync(Socket from, Socket to, long notBefore)
    {
        var chunks = Channel.CreateUnbounded<(long Due, byte[] Buffer, int Length)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writer = Task.Run(async () =>
        {
            await foreach (var (due, buffer, length) in chunks.Reader.ReadAllAsync(_stop.Token))
            {
                var wait = Stopwatch.GetElapsedTime(0, due - Stopwatch.GetTimestamp());
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _stop.Token);
                }

                try
                {
                    await to.SendAsync(buffer.AsMemory(0, length), SocketFlags.None, _stop.Token);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            to.Shutdown(SocketShutdown.Send);
        });
        try
        {
            while (true)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    break;
                }

                chunks.Writer.TryWrite((Math.Max(Stopwatch.GetTimestamp(), notBefore) + _halfTicks, buffer, read));
            }
        }
        finally
        {
            chunks.Writer.TryComplete();
            await writer;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
