using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using SysextFunctions.Registry.Remote.Auth;

namespace SysextFunctions.Tests.Support;

/// <summary>A name service of the test's own: host names to the addresses it says, anything else unknown; every lookup recorded.</summary>
internal sealed class FakeHostResolver : IHostAddressResolver
{
    private readonly Dictionary<string, IPAddress[]> _hosts = new(StringComparer.OrdinalIgnoreCase);

    public ConcurrentQueue<string> Lookups { get; } = new();

    public FakeHostResolver Add(string host, params string[] addresses)
    {
        _hosts[host] = [.. addresses.Select(IPAddress.Parse)];
        return this;
    }

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken = default)
    {
        Lookups.Enqueue(host);
        return _hosts.TryGetValue(host, out var addresses)
            ? Task.FromResult(addresses)
            : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
    }
}
