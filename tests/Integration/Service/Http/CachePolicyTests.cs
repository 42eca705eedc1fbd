using System.Text;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

/// <summary>
/// Every route × success, 4xx and 5xx (issue 19, item 2): each answer says how long it may be kept, through the
/// standalone host on Kestrel in front of a fake registry with a good repository and one whose tag list fails.
/// </summary>
public class CachePolicyTests(CachePolicyTests.Servers servers) : IClassFixture<CachePolicyTests.Servers>
{
    /// <summary>Path, Accept, status, Cache-Control (a prefix for max-age), Vary, whether an ETag comes with it.</summary>
    public static TheoryData<string, string?, int, string, string?, bool> Table => new()
    {
        { "/", null, 200, "private, no-cache", "Accept", true },
        { "/", "text/html", 200, "private, no-cache", "Accept", true },
        { "/good/SHA256SUMS", null, 200, "public, max-age=", null, true },
        { "/good/SHA256SUMS.gpg", null, 404, "no-store", null, false },
        { "/broken/SHA256SUMS", null, 502, "no-store", null, false },
        { "/good/good-v1.raw", null, 200, "public, max-age=30", null, true },
        { "/good/good-v9.raw", null, 404, "no-store", null, false },
        { "/broken/broken-v1.raw", null, 502, "no-store", null, false },
        { "/good/", "application/json", 200, "private, no-cache", "Accept", true },
        { "/good/", "text/html", 200, "no-store", "Accept", true },
        { "/good/", "image/png", 406, "no-store", "Accept", false },
        { "/broken/", "application/json", 502, "no-store", "Accept", false },
        { "/good/catalogue.json", null, 200, "public, max-age=", null, true },
        { "/unknown/catalogue.json", null, 404, "no-store", null, false },
        { "/broken/catalogue.json", null, 502, "no-store", null, false },
        { "/good/good.transfer", null, 200, "no-store", null, true },
        { "/broken/broken.transfer", null, 502, "no-store", null, false },
        { "/a/../b", null, 400, "no-store", null, false },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public async Task Route_Status_CacheControl(string path, string? accept, int status, string cacheControl, string? vary, bool etag)
    {
        var proxy = await servers.StartAsync();

        var response = await RawHttp.SendAsync(proxy.Url, path, extraHeaders: accept is null ? "" : $"Accept: {accept}\r\n");
        var head = response.Head.Split("\r\n");
        string? Header(string name) => head.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim();

        Assert.True(response.Status == status, $"{response.Status} (expected {status}): {response.Head}\n{response.Body}");
        Assert.StartsWith(cacheControl, Header("Cache-Control") ?? "(none)", StringComparison.Ordinal);
        Assert.Equal(vary, Header("Vary"));
        Assert.Equal(etag, Header("ETag") is not null);
    }

    public sealed class Servers : IAsyncLifetime
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private HostileRegistry? _registry;
        private ProxyServer? _proxy;

        internal async Task<ProxyServer> StartAsync()
        {
            await _gate.WaitAsync();
            try
            {
                if (_proxy is null)
                {
                    _registry = await HostileRegistry.StartAsync();
                    _registry.Push("good", "v1", Encoding.ASCII.GetBytes("good"));
                    _registry.OnJson("/v2/good/tags/list", """{"name":"good","tags":["v1"]}""");
                    _registry.On("/v2/broken/tags/list", context => HostileRegistry.Send(context, 500, "application/json", """{"errors":[{"code":"UNKNOWN"}]}"""u8.ToArray()));
                    _registry.On("/v2/broken/manifests/v1", context => HostileRegistry.Send(context, 500, "application/json", """{"errors":[{"code":"UNKNOWN"}]}"""u8.ToArray()));
                    _proxy = await ProxyServer.StartAsync(_registry.Url, new Dictionary<string, string?>
                    {
                        ["Signing:Key"] = null,
                        ["Cache:ChecksumsTtl"] = "00:00:30",
                        ["Proxy:BlobDelivery"] = "stream",
                        ["Registry:Resilience:MaxRetries"] = "0",
                        ["Registry:Resilience:MinimumThroughput"] = "1000",
                    });
                }

                return _proxy;
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

            if (_registry is not null)
            {
                await _registry.DisposeAsync();
            }

            _gate.Dispose();
        }
    }
}
