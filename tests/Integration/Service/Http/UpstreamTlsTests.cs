using System.Net;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration.Service.Http;

/// <summary>Debian's docker-registry serving HTTPS with a certificate from a CA made in the test.</summary>
public sealed class TlsRegistryFixture : IAsyncLifetime
{
    internal TestCertificateAuthority Ca { get; } = new();

    internal TestCertificateAuthority OtherCa { get; } = new("Another Test CA");

    public RegistryServer Registry { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Registry = RegistryServer.WithTls(Ca);
        await Registry.InitializeAsync();
        using var http = Ca.CreateHttpClient();
        await new OciPusher(Registry.Url, http).PushOrasArtifactAsync("tls/hello", "v1", "hello.raw", UpstreamTlsTests.Content);
    }

    public async ValueTask DisposeAsync()
    {
        await Registry.DisposeAsync();
        Ca.Dispose();
        OtherCa.Dispose();
    }
}

/// <summary>
/// <c>Registry:CaCertificateFile</c> and <c>Registries:&lt;id&gt;:CaCertificateFile</c>: a private registry's own CA,
/// trusted for that upstream only, checked at start.
/// </summary>
public class UpstreamTlsTests(TlsRegistryFixture fixture) : IClassFixture<TlsRegistryFixture>
{
    internal static readonly byte[] Content = Payloads.Random(70_000, 61);

    private Task<ProxyServer> StartAsync(IDictionary<string, string?> settings) =>
        ProxyServer.StartAsync(fixture.Registry.Url, new Dictionary<string, string?>(settings) { ["Proxy:BlobDelivery"] = "stream" });

    [Fact]
    public async Task CaCertificateFile_RegistryCa_ListsAndStreams()
    {
        await using var proxy = await StartAsync(new Dictionary<string, string?> { ["Registry:CaCertificateFile"] = fixture.Ca.CertificatePath });
        using var client = proxy.CreateClient();

        var sums = await client.GetStringAsync("/tls/hello/SHA256SUMS");
        var file = await client.GetByteArrayAsync("/tls/hello/hello-v1.raw");

        Assert.Equal($"{OciPusher.Sha256(Content)[7..]}  hello-v1.raw\n", sums);
        Assert.Equal(Content, file);
    }

    [Fact]
    public async Task NoCaCertificateFile_502SayingTlsFailed()
    {
        await using var proxy = await StartAsync(new Dictionary<string, string?>());
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/tls/hello/SHA256SUMS");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("TLS handshake with the registry failed (certificate not trusted?) for tag list of 'tls/hello'\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task CaCertificateFile_AnotherCa_502()
    {
        await using var proxy = await StartAsync(new Dictionary<string, string?> { ["Registry:CaCertificateFile"] = fixture.OtherCa.CertificatePath });
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("/tls/hello/SHA256SUMS");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.StartsWith("TLS handshake with the registry failed", body, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.OtherCa.CertificatePath, body, StringComparison.Ordinal);
        Assert.Single(body.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task RegistriesCaCertificateFile_TrustedForThatUpstreamOnly()
    {
        // The default registry is the same TLS registry without the CA; the mapped one has it.
        await using var proxy = await StartAsync(new Dictionary<string, string?>
        {
            ["Registries:private:Url"] = fixture.Registry.Url.ToString(),
            ["Registries:private:CaCertificateFile"] = fixture.Ca.CertificatePath,
            ["Mappings:0:Path"] = "private/*",
            ["Mappings:0:Repository"] = "tls/*",
            ["Mappings:0:Registry"] = "private",
            ["Mappings:1:Path"] = "tls/*",
            ["Mappings:1:Repository"] = "tls/*",
        });
        using var client = proxy.CreateClient();

        using var mapped = await client.GetAsync("/private/hello/SHA256SUMS");
        using var unmapped = await client.GetAsync("/tls/hello/SHA256SUMS");

        Assert.Equal(HttpStatusCode.OK, mapped.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, unmapped.StatusCode);
    }

    [Theory]
    [InlineData("Registry", "missing", "cannot read")]
    [InlineData("Registry", "text", "holds no PEM certificate")]
    [InlineData("Registry", "broken", "cannot be read")]
    [InlineData("Registries:private", "missing", "cannot read")]
    [InlineData("Registries:private", "key", "holds no PEM certificate")]
    public async Task CaCertificateFile_NotACertificate_RefusesToStart(string section, string kind, string reason)
    {
        using var dir = new TempDirectory();
        var path = dir.Combine($"{kind}.pem");
        switch (kind)
        {
            case "text":
                await File.WriteAllTextAsync(path, "not a certificate\n");
                break;
            case "broken":
                await File.WriteAllTextAsync(path, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
                break;
            case "key":
                File.Copy(fixture.Ca.ServerKeyPath, path);
                break;
        }

        var settings = new Dictionary<string, string?> { [$"{section}:CaCertificateFile"] = path };
        if (section != "Registry")
        {
            settings[$"{section}:Url"] = fixture.Registry.Url.ToString();
        }

        var e = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(settings));

        Assert.Contains($"{section}:CaCertificateFile", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }
}
