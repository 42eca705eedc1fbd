using System.Net;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Sysupdate;

/// <summary>
/// The standalone server on HTTPS through Kestrel's own endpoint settings (<c>Kestrel:Endpoints:Https</c>), with a
/// certificate from a CA made in the test, and the real systemd-sysupdate 254 updating from it.
/// </summary>
[Collection(RegistryCollection.Name)]
public class HttpsSysupdateTests(RegistryServer registry)
{
    private readonly OciPusher _pusher = new(registry.Url);

    private static Task<ProxyServer> StartHttpsAsync(Uri registryUrl, TestCertificateAuthority ca) =>
        ProxyServer.StartAsync(registryUrl, new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Https:Url"] = "https://127.0.0.1:0",
            ["Kestrel:Endpoints:Https:Certificate:Path"] = ca.ServerCertificatePath,
            ["Kestrel:Endpoints:Https:Certificate:KeyPath"] = ca.ServerKeyPath,
            ["Proxy:BlobDelivery"] = "stream",
        });

    [Fact]
    public async Task KestrelHttpsEndpoint_Sysupdate_TrustingTheCa_Updates()
    {
        var images = new Dictionary<string, byte[]>();
        foreach (var (version, seed) in new[] { ("v1", 71), ("v2", 72) })
        {
            images[version] = Payloads.Random(64 * 1024 + seed, seed);
            await _pusher.PushOrasArtifactAsync("e2e/https/hello", version, $"hello-{version}.raw", images[version]);
        }

        using var ca = new TestCertificateAuthority();
        await using var proxy = await StartHttpsAsync(registry.Url, ca);
        using var dir = new TempDirectory();
        // The machine's bundle plus the test CA, mounted over the system bundle for sysupdate alone.
        var bundle = dir.Combine("ca-certificates.crt");
        await File.WriteAllTextAsync(bundle, await File.ReadAllTextAsync("/etc/ssl/certs/ca-certificates.crt") + await File.ReadAllTextAsync(ca.CertificatePath));
        var target = dir.CreateDirectory("opt", "extensions", "hello");
        var definitions = await new Transfer("hello",
            TransferResource.UrlFile(proxy.Url, "e2e/https/hello", "hello-@v.raw"),
            TransferResource.RegularFile(target, "hello-@v.raw"))
        {
            InstancesMax = 3,
        }.WriteAsync(dir);

        var untrusted = await SysupdateTool.RunAsync(definitions, "update");
        var update = await UnpackedSystemd.SysupdateTrustingAsync(definitions, bundle, "update");

        Assert.Equal("https", proxy.Url.Scheme);
        // Without the CA, systemd-pull refuses the certificate: the trust below comes from the bundle alone.
        Assert.True(untrusted.ExitCode != 0, untrusted.ToString());
        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Equal(images["v2"], await File.ReadAllBytesAsync(Path.Combine(target, "hello-v2.raw")));
    }

    [Fact]
    public async Task KestrelHttpsEndpoint_ClientTrustingTheCa_Serves()
    {
        await _pusher.PushOrasArtifactAsync("e2e/https/plain", "v1", "plain.raw", [1, 2, 3]);
        using var ca = new TestCertificateAuthority();
        await using var proxy = await StartHttpsAsync(registry.Url, ca);
        using var client = ca.CreateHttpClient();
        using var other = new TestCertificateAuthority("Another Test CA");
        using var stranger = other.CreateHttpClient();

        using var response = await client.GetAsync(new Uri(proxy.Url, "/e2e/https/plain/SHA256SUMS"));
        var refused = await Record.ExceptionAsync(() => stranger.GetAsync(new Uri(proxy.Url, "/e2e/https/plain/SHA256SUMS")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("plain-v1.raw", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(refused);
    }
}
