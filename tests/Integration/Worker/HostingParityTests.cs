using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Worker;

/// <summary>
/// Both hostings, side by side: the standalone server and the Functions worker behind the host emulator, with the
/// same settings in front of the same registry, answer one table of requests with the same status, the same
/// Content-Length, Content-Type, ETag and Location, and the same body. Signatures are made afresh per request
/// (they carry a time), so theirs, and their ETags, are checked with gpg against the list instead of compared.
/// </summary>
public sealed class HostingParityTests(HostingParityTests.Hostings hostings) : IClassFixture<HostingParityTests.Hostings>
{
    private static readonly string LongPath = "/" + string.Join('/', Enumerable.Repeat(new string('a', 100), 11)) + "/SHA256SUMS";

    /// <summary>Method, request target, expected status.</summary>
    public static TheoryData<string, string, int> Table => new()
    {
        { "GET", "/", 200 },
        { "GET", "/parity/hello/SHA256SUMS", 200 },
        { "HEAD", "/parity/hello/SHA256SUMS", 200 },
        { "GET", "/parity/hello/hello-v1.raw", 200 },
        { "HEAD", "/parity/hello/hello-v2.raw", 200 },
        { "GET", "/parity/hello/SHA256SUMS.gpg", 200 },
        { "GET", "/parity/hello/SHA256SUMS.asc", 200 },
        { "GET", "/parity/hello/SHA256SUMS.sha256.asc", 404 },
        { "GET", "/parity/hello/hello-v9.raw", 404 },
        { "GET", "/parity/hello/other-v1.raw", 404 },
        { "GET", "/unmapped/hello/SHA256SUMS", 404 },
        { "GET", "/parity/Upper/SHA256SUMS", 400 },
        { "GET", "/parity/hello/SHA256SUMS?x=1", 400 },
        { "GET", "/parity/a%2fb/SHA256SUMS", 400 },
        { "GET", "/parity//hello/SHA256SUMS", 400 },
        { "GET", "/parity/hello/hello-v1.raw;x", 400 },
        { "GET", LongPath, 414 },
        { "POST", "/parity/hello/SHA256SUMS", 405 },
        { "DELETE", "/parity/hello/hello-v1.raw", 405 },
        { "GET", "/down/hello/SHA256SUMS", 502 },
        { "GET", "/down/hello/hello-v1.raw", 502 },
        { "GET", "/stalled/hello/SHA256SUMS", 504 },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public async Task Request_BothHostings_SameAnswer(string method, string target, int status)
    {
        var standalone = await RawHttp.SendAsync(hostings.Standalone.Url, target, method, timeout: TimeSpan.FromSeconds(60));
        var functions = await RawHttp.SendAsync(hostings.Functions.Url, target, method, timeout: TimeSpan.FromSeconds(60));

        Assert.True(standalone.Status == status, $"standalone: {standalone.Status} {Text(standalone)}");
        Assert.True(functions.Status == status, $"functions: {functions.Status} {Text(functions)}\n{hostings.Functions.Log.Describe()}");
        // Each hosting signs on its own, and an OpenPGP signature carries its creation time, so two signatures of
        // one list differ in their bytes, and so in their ETag (the hash of those bytes): both are checked below.
        var signature = status == 200 && (target.EndsWith(".gpg", StringComparison.Ordinal) || target.EndsWith(".asc", StringComparison.Ordinal));
        foreach (var header in signature ? (string[])["Content-Length", "Content-Type", "Location"] : ["Content-Length", "Content-Type", "ETag", "Location"])
        {
            Assert.True(standalone.Header(header) == functions.Header(header), $"{header}: standalone '{standalone.Header(header)}', functions '{functions.Header(header)}'");
        }

        if (signature)
        {
            var list = (await RawHttp.SendAsync(hostings.Standalone.Url, "/parity/hello/SHA256SUMS", "GET", timeout: TimeSpan.FromSeconds(60))).Content;
            foreach (var answer in new[] { standalone, functions })
            {
                var verified = await GpgKey.VerifyAsync(hostings.Key.KeyringPath, answer.Content, list);
                Assert.True(verified.ExitCode == 0, verified.Stderr);
                Assert.Equal($"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(answer.Content))}\"", answer.Header("ETag"));
            }
        }
        else
        {
            Assert.True(standalone.Content.AsSpan().SequenceEqual(functions.Content), $"bodies differ: standalone {standalone.Content.Length} bytes {Text(standalone)}, functions {functions.Content.Length} bytes {Text(functions)}");
        }

        await hostings.Functions.AssertEveryInvocationSucceededAsync();
    }

    private static string Text(RawResponse response) => response.Content.Length < 512 ? System.Text.Encoding.UTF8.GetString(response.Content) : "";

    /// <summary>
    /// One registry, one signing key, one upstream that refuses connections and one that never answers, mapped
    /// under <c>down/</c> and <c>stalled/</c>; both hostings started once with these settings.
    /// </summary>
    public sealed class Hostings : IAsyncLifetime
    {
        private readonly RegistryServer _registry = new();
        private readonly SilentServer _silent = new();
        private readonly TempDirectory _dir = new();

        internal ProxyServer Standalone { get; private set; } = null!;

        internal FunctionsHostServer Functions { get; private set; } = null!;

        internal GpgKey Key { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            await _registry.InitializeAsync();
            var pusher = new OciPusher(_registry.Url);
            foreach (var (version, seed) in new[] { ("v1", 1), ("v2", 2) })
            {
                await pusher.PushOrasArtifactAsync("parity/hello", version, $"hello-{version}.raw", Payloads.Random(96 * 1024 + seed, seed));
            }

            Key = await GpgKey.CreateAsync("ed25519");
            var keyFile = _dir.Combine("signing.asc");
            await File.WriteAllBytesAsync(keyFile, await Key.ExportSecretAsync(armor: true));
            var settings = new Dictionary<string, string?>
            {
                ["Proxy:BlobDelivery"] = "auto",
                ["Registry:Timeout"] = "00:00:03",
                ["Registry:Resilience:AttemptTimeout"] = "00:00:00.500",
                ["Registry:Resilience:MaxRetries"] = "1",
                ["Registry:Resilience:RetryDelay"] = "00:00:00.050",
                ["Registries:down:Url"] = $"http://127.0.0.1:{FreePort.Next()}",
                ["Registries:stalled:Url"] = _silent.Url.AbsoluteUri,
                ["Mappings:0:Path"] = "parity/*",
                ["Mappings:0:Repository"] = "parity/*",
                ["Mappings:1:Path"] = "down/*",
                ["Mappings:1:Repository"] = "parity/*",
                ["Mappings:1:Registry"] = "down",
                ["Mappings:2:Path"] = "stalled/*",
                ["Mappings:2:Repository"] = "parity/*",
                ["Mappings:2:Registry"] = "stalled",
                ["Signing:KeyFile"] = keyFile,
                ["Signing:Passphrase"] = Key.Passphrase,
            };
            Standalone = await ProxyServer.StartAsync(_registry.Url, settings);
            Functions = await FunctionsHostServer.StartAsync(_registry.Url, settings);
        }

        public async ValueTask DisposeAsync()
        {
            await Functions.DisposeAsync();
            await Standalone.DisposeAsync();
            await Key.DisposeAsync();
            _silent.Dispose();
            await _registry.DisposeAsync();
            _dir.Dispose();
        }
    }
}
