using System.Text;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

/// <summary>
/// Clients that send what sysupdate never would (issue 20, items 9 and 12), byte for byte on a raw socket to the
/// standalone host on Kestrel: one row per attack, each asserting status, body and headers.
/// </summary>
public class HostileClientTests(HostileClientTests.Servers servers) : IClassFixture<HostileClientTests.Servers>
{
    /// <summary>Server, method, target, extra header lines, status, text the body has, text it must not have, Cache-Control.</summary>
    public static TheoryData<string, string, string, string, int, string, string?, string> Table => new()
    {
        // A lowercase method is another method (RFC 9110 §9.1), not GET.
        { "plain", "get", "/hello/SHA256SUMS", "", 405, "only GET and HEAD are supported", null, "no-store" },
        { "plain", "head", "/", "", 405, "", null, "no-store" },
        // Without Proxy:PublicUrl the definition names the Host it was asked by, so no cache may keep it for others.
        { "plain", "GET", "/hello/hello.transfer", "X-Host: evil.example\r\n", 200, "Path=http://evil.example/hello\n", null, "no-store" },
        // With it, the Host is nothing to the definition, and the definition is the same for every client.
        { "public", "GET", "/hello/hello.transfer", "X-Host: evil.example\r\n", 200, "Path=https://updates.example/sysext/hello\n", "evil", "public, max-age=" },
        { "public", "GET", "/hello/", "X-Host: evil.example\r\nAccept: text/html\r\n", 200, "https://updates.example/sysext/hello/hello.transfer", "evil", "private, no-cache" },
        // AllowedHosts: a Host outside it gets no definition at all, and is not echoed.
        { "allowed", "GET", "/hello/hello.transfer", "X-Host: evil.example\r\n", 400, "this host name is not among AllowedHosts", "evil", "no-store" },
        { "allowed", "GET", "/hello/hello.transfer", "", 200, "Path=http://127.0.0.1:", null, "no-store" },
        // Forwarded headers from a peer that is not a trusted proxy are the client's own: ignored.
        { "untrusted", "GET", "/hello/hello.transfer", "X-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\n", 200, "Path=http://127.0.0.1:", "evil", "no-store" },
        // From a trusted proxy, the value it added (the last), never one the client put before it.
        { "trusted", "GET", "/hello/hello.transfer", "X-Forwarded-For: 198.51.100.7\r\nX-Forwarded-Host: evil.example, sysext.example\r\nX-Forwarded-Proto: https\r\n", 200, "Path=https://sysext.example/hello\n", "evil", "no-store" },
        // The same URL gives a page or JSON by Accept: private, so that a CDN that ignores Vary keeps neither.
        { "plain", "GET", "/hello/", "Accept: application/json\r\n", 200, "\"repository\": \"hello\"", null, "private, no-cache" },
        { "plain", "GET", "/hello/", "Accept: text/html\r\n", 200, "<!doctype html>", null, "no-store" },
        { "plain", "GET", "/", "Accept: text/html\r\n", 200, "<!doctype html>", null, "private, no-cache" },
        { "plain", "GET", "/", "", 200, "Sysext Functions", null, "private, no-cache" },
        // The JSON's own URL is one answer for everyone: cacheable by URL alone.
        { "plain", "GET", "/hello/catalogue.json", "Accept: text/html\r\n", 200, "\"repository\": \"hello\"", null, "public, max-age=" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public async Task Attack_AnsweredSafely(string server, string method, string target, string headers, int status, string contains, string? mustNotContain, string cacheControl)
    {
        var proxy = await servers.StartAsync(server);
        // "X-Host:" stands for a Host header of the attacker's choosing (RawHttp sends the server's own otherwise).
        var host = headers.StartsWith("X-Host: ", StringComparison.Ordinal) ? headers[8..headers.IndexOf('\r', StringComparison.Ordinal)] : null;
        var extra = host is null ? headers : headers[(headers.IndexOf('\n', StringComparison.Ordinal) + 1)..];

        var response = await RawHttp.SendAsync(proxy.Url, target, method, extra, hostHeader: host);

        Assert.True(response.Status == status, $"{response.Status} (expected {status}): {response.Head}\n{response.Body}\n{proxy.Log.Describe()}");
        Assert.Contains(contains, response.Body, StringComparison.Ordinal);
        if (mustNotContain is not null)
        {
            Assert.DoesNotContain(mustNotContain, response.Body, StringComparison.Ordinal);
        }

        var head = response.Head.Split("\r\n");
        var cache = head.Single(line => line.StartsWith("Cache-Control:", StringComparison.OrdinalIgnoreCase))["Cache-Control:".Length..].Trim();
        Assert.StartsWith(cacheControl, cache, StringComparison.Ordinal);
        if (status >= 400)
        {
            Assert.Contains(head, line => line.StartsWith("Content-Type: text/plain", StringComparison.OrdinalIgnoreCase));
            Assert.True(response.Body.Length < 200 && response.Body.Count(c => c == '\n') <= 1, response.Body);
        }

        if (status == 200)
        {
            Assert.Contains(head, line => line.StartsWith("ETag:", StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>One fake registry serving <c>hello:v1</c>, and one proxy per setting set, shared by the rows.</summary>
    public sealed class Servers : IAsyncLifetime
    {
        private static readonly Dictionary<string, Dictionary<string, string?>> Settings = new()
        {
            ["plain"] = [],
            ["public"] = new() { ["Proxy:PublicUrl"] = "https://updates.example/sysext" },
            ["allowed"] = new() { ["AllowedHosts"] = "127.0.0.1;localhost" },
            ["untrusted"] = new() { ["Proxy:TrustForwardedHeaders"] = "true", ["Proxy:TrustedProxies:0"] = "10.0.0.0/8" },
            ["trusted"] = new() { ["Proxy:TrustForwardedHeaders"] = "true" },
        };

        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly Dictionary<string, ProxyServer> _proxies = [];
        private HostileRegistry? _registry;

        internal async Task<ProxyServer> StartAsync(string name)
        {
            await _gate.WaitAsync();
            try
            {
                if (_registry is null)
                {
                    _registry = await HostileRegistry.StartAsync();
                    _registry.Push("hello", "v1", Encoding.ASCII.GetBytes("hello"));
                    _registry.OnJson("/v2/hello/tags/list", """{"name":"hello","tags":["v1"]}""");
                }

                if (!_proxies.TryGetValue(name, out var proxy))
                {
                    var settings = new Dictionary<string, string?>(Settings[name]) { ["Signing:Key"] = null };
                    _proxies[name] = proxy = await ProxyServer.StartAsync(_registry.Url, settings);
                }

                return proxy;
            }
            finally
            {
                _gate.Release();
            }
        }

        public ValueTask InitializeAsync() => ValueTask.CompletedTask;

        public async ValueTask DisposeAsync()
        {
            foreach (var proxy in _proxies.Values)
            {
                await proxy.DisposeAsync();
            }

            if (_registry is not null)
            {
                await _registry.DisposeAsync();
            }

            _gate.Dispose();
        }
    }
}
