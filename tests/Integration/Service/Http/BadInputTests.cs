using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

/// <summary>
/// Hostile and malformed requests, sent byte for byte on a raw socket to the standalone host on Kestrel, with a
/// counting relay as its registry: each is refused with a 4xx and a one-line reason, and none reaches the registry.
/// </summary>
[Collection(RegistryCollection.Name)]
public class BadInputTests(RegistryServer registry, BadInputTests.Servers servers) : IClassFixture<BadInputTests.Servers>
{
    private static readonly string Long = new('a', 300);

    /// <summary>Method, request target, extra header lines, expected status, expected reason (null: Kestrel's own, empty body).</summary>
    public static TheoryData<string, string, string, int, string?> Table => new()
    {
        { "GET", "/a/../SHA256SUMS", "", 400, "dot segments are not allowed" },
        { "GET", "/a/./SHA256SUMS", "", 400, "dot segments are not allowed" },
        { "GET", "/../../etc/passwd", "", 400, "dot segments are not allowed" },
        { "GET", "/a/%2e%2e/SHA256SUMS", "", 400, "percent-encoded characters are not allowed" },
        { "GET", "/a/%2E%2E/%2E%2E/SHA256SUMS", "", 400, "percent-encoded characters are not allowed" },
        { "GET", "/a%2fb/SHA256SUMS", "", 400, "percent-encoded characters are not allowed" },
        { "GET", "/a%252e%252e/SHA256SUMS", "", 400, "percent-encoded characters are not allowed" },
        { "GET", "/a//b/SHA256SUMS", "", 400, "empty path segment" },
        { "GET", "//SHA256SUMS", "", 400, "empty path segment" },
        { "GET", "/a/SHA256SUMS/", "", 400, "invalid repository name" },
        { "GET", "/a//", "", 400, "empty path segment" },
        { "GET", "/a/?x=1", "", 400, "query strings are not supported" },
        // Absolute-form (RFC 9112 §3.2.2); {authority} is the server's, as Kestrel wants it to match Host.
        { "GET", "http://{authority}/a/../b/SHA256SUMS", "", 400, "dot segments are not allowed" },
        { "GET", "http://{authority}/a/%2e%2e/b/SHA256SUMS", "", 400, "percent-encoded characters are not allowed" },
        { "GET", "http://{authority}/Upper/SHA256SUMS", "", 400, "invalid repository name" },
        { "GET", "http://{authority}/a/SHA256SUMS?x=1", "", 400, "query strings are not supported" },
        { "GET", "http://{authority}", "", 200, "Sysext Functions" },
        { "GET", "/Upper/SHA256SUMS", "", 400, "invalid repository name" },
        { "GET", "/a__b__/SHA256SUMS", "", 400, "invalid repository name" },
        { "GET", "/-a/SHA256SUMS", "", 400, "invalid repository name" },
        { "GET", "/a..b/SHA256SUMS", "", 400, "invalid repository name" },
        { "GET", "/a:b/SHA256SUMS", "", 400, "invalid repository name" },
        { "GET", $"/{Long}/SHA256SUMS", "", 400, "invalid repository name" },
        { "GET", $"/a/{Long}.raw", "", 400, "invalid file name" },
        { "GET", "/a/a-v1.raw;x", "", 400, "invalid file name" },
        { "GET", $"/{string.Join('/', Enumerable.Repeat(Long[..100], 11))}/SHA256SUMS", "", 414, "path longer than 1024 characters" },
        { "GET", "/a/a-v1.zip", "", 404, "a-v1.zip: no such file in a" },
        { "GET", "/a/other-v1.raw", "", 404, "other-v1.raw: no such file in a" },
        { "GET", "/a/a-.raw", "", 404, "a-.raw: no such file in a" },
        { "GET", "/a/SHA256SUMS.sig", "", 404, "SHA256SUMS.sig: no such file in a" },
        { "GET", "/a/SHA256SUMS.gpg", "", 404, "SHA256SUMS.gpg: no signature is served under this name" },
        { "GET", "/a/SHA256SUMS?x=1", "", 400, "query strings are not supported" },
        { "GET", "/a/SHA256SUMS?", "", 400, "query strings are not supported" },
        { "GET", "/a/SHA256SUMS\u007f", "", 400, "control, space and non-ASCII characters are not allowed" },
        { "GET", "/a/SHA256SUMS\u0001", "", 400, "control, space and non-ASCII characters are not allowed" },
        { "GET", "/a/\u00e9/SHA256SUMS", "", 400, null },
        { "GET", "/a/SHA 256SUMS", "", 400, null },
        { "POST", "/a/SHA256SUMS", "Content-Length: 0\r\n", 405, "only GET and HEAD are supported" },
        { "PUT", "/a/SHA256SUMS", "Content-Length: 0\r\n", 405, "only GET and HEAD are supported" },
        { "DELETE", "/a/SHA256SUMS", "", 405, "only GET and HEAD are supported" },
        { "PATCH", "/a/SHA256SUMS", "Content-Length: 0\r\n", 405, "only GET and HEAD are supported" },
        { "OPTIONS", "/a/SHA256SUMS", "", 405, "only GET and HEAD are supported" },
        { "TRACE", "/a/SHA256SUMS", "", 405, "only GET and HEAD are supported" },
        { "GET", "/a/SHA256SUMS", $"X-Huge: {new string('x', 40 * 1024)}\r\n", 431, null },
        { "GET", "/a/SHA256SUMS", string.Concat(Enumerable.Range(0, 200).Select(i => $"X-Many-{i}: {new string('y', 200)}\r\n")), 431, null },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public async Task Request_RefusedWithOneLineReason_NothingReachesRegistry(string method, string target, string headers, int status, string? reason)
    {
        var (relay, proxy) = await servers.StartAsync(registry.Url);
        var before = relay.Requests.Count;

        var response = await RawHttp.SendAsync(proxy.Url, target.Replace("{authority}", proxy.Url.Authority, StringComparison.Ordinal), method, headers);
        var body = response.Body;

        Assert.True(response.Status == status, $"{response.Status} (expected {status}): {response.Head}\n{body}");
        if (reason is null)
        {
            Assert.Equal("", body);
        }
        else
        {
            Assert.StartsWith(reason, body, StringComparison.Ordinal);
            Assert.EndsWith("\n", body, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', body[..^1]);
        }

        Assert.Empty(relay.Requests.Skip(before));

        // The server is still there for the next client.
        Assert.Equal(200, (await RawHttp.SendAsync(proxy.Url, "/")).Status);
    }

    /// <summary>One relay and one proxy for every row: each row's requests are told apart by count.</summary>
    public sealed class Servers : IAsyncLifetime
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private FaultProxy? _relay;
        private ProxyServer? _proxy;

        internal async Task<(FaultProxy Relay, ProxyServer Proxy)> StartAsync(Uri registry)
        {
            await _gate.WaitAsync();
            try
            {
                _relay ??= await FaultProxy.StartAsync(registry);
                _proxy ??= await ProxyServer.StartAsync(_relay.Url, new Dictionary<string, string?> { ["Signing:Key"] = null });
                return (_relay, _proxy);
            }
            finally
            {
                _gate.Release();
            }
        }

        public ValueTask InitializeAsync() => ValueTask.CompletedTask;

        public async ValueTask DisposeAsync()
        {
            if (_proxy is not null)
            {
                await _proxy.DisposeAsync();
            }

            if (_relay is not null)
            {
                await _relay.DisposeAsync();
            }

            _gate.Dispose();
        }
    }
}
