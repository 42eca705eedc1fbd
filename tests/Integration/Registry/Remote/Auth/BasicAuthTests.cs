using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Registry.Remote.Auth;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Registry.Remote.Auth;

/// <summary>The real registry with <c>auth: htpasswd</c> (bcrypt entries from the real <c>htpasswd -Bbn</c>).</summary>
public sealed class BasicAuthTests : IAsyncLifetime
{
    public const string Username = "sysext";
    public const string Password = "pa55-w0rd";

    private readonly TempDirectory _directory = new("sysext-htpasswd-");
    private RegistryServer _registry = null!;

    public async ValueTask InitializeAsync()
    {
        _registry = await StartAsync(_directory);
    }

    public async ValueTask DisposeAsync()
    {
        await _registry.DisposeAsync();
        _directory.Dispose();
    }

    /// <summary>A registry that wants <see cref="Username"/> and <see cref="Password"/>.</summary>
    internal static async Task<RegistryServer> StartAsync(TempDirectory directory)
    {
        const string tool = "/usr/bin/htpasswd";
        ChildProcess.Require(tool);

        var run = await ChildProcess.RunAsync(new ProcessStartInfo(tool, ["-Bbn", Username, Password]));
        Assert.Equal(0, run.ExitCode);
        var file = directory.Combine("htpasswd");
        await File.WriteAllTextAsync(file, run.Stdout);
        var registry = RegistryServer.WithConfig($"""
            auth:
              htpasswd:
                realm: sysext-test
                path: {file}
            """);
        await registry.InitializeAsync();
        return registry;
    }

    internal static OciPusher Pusher(Uri registry)
    {
        var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}")));
        return new OciPusher(registry, http);
    }

    private RegistryClient Client(RegistryCredentials credentials) =>
        new(
            new HttpClient(new RegistryAuthHandler(_registry.Url, credentials, new TokenCache(TimeProvider.System), TokenRealmPolicy.For(_registry.Url), NullLogger<RegistryAuthHandler>.Instance)
            {
                InnerHandler = new SocketsHttpHandler { AllowAutoRedirect = false },
            }),
            _registry.Url,
            new UpstreamTimeouts(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10)),
            TimeProvider.System, NullLogger<RegistryClient>.Instance);

    [Fact]
    public async Task Client_RightPassword_ReadsTagsManifestAndBlob()
    {
        var content = Payloads.Random(2000, 7);
        var pushed = await Pusher(_registry.Url).PushOrasArtifactAsync("basic/tool", "v1", "tool.raw", content);
        var client = Client(RegistryCredentials.Basic(Username, Password));

        var tags = await client.ListTagsAsync("basic/tool");
        var manifest = await client.GetManifestAsync("basic/tool", "v1");
        using var blob = await client.GetBlobAsync("basic/tool", Digest.Parse(pushed.LayerDigest), followRedirects: false);
        using var read = new MemoryStream();
        await blob.Content!.CopyToAsync(read);

        Assert.Equal(["v1"], tags);
        Assert.Equal(pushed.ManifestDigest, manifest.Digest.ToString());
        Assert.Equal(content, read.ToArray());
    }

    [Fact]
    public async Task Client_WrongPasswordOrNone_DeniedWithoutEchoingIt()
    {
        await Pusher(_registry.Url).PushOrasArtifactAsync("basic/denied", "v1", "tool.raw", [1]);

        var wrong = await Assert.ThrowsAsync<RegistryException>(() => Client(RegistryCredentials.Basic(Username, "guess-1234")).ListTagsAsync("basic/denied"));
        var none = await Assert.ThrowsAsync<RegistryException>(() => Client(RegistryCredentials.Anonymous).ListTagsAsync("basic/denied"));

        Assert.Equal(RegistryFailure.Denied, wrong.Failure);
        Assert.Equal(RegistryFailure.Denied, none.Failure);
        Assert.DoesNotContain("guess-1234", wrong.ToString(), StringComparison.Ordinal);
    }
}
