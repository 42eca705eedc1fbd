using System.Text;
using System.Text.Json.Nodes;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Browser;

/// <summary>
/// The catalogue page as a browser shows it: the real Chromium, headless, at a phone's width, against the proxy on
/// Kestrel at loopback in front of the real registry.
/// </summary>
[Collection(RegistryCollection.Name)]
public class CatalogueBrowserTests(RegistryServer registry)
{
    /// <summary>Set to a path (docs/catalogue.png) to keep the screenshot, e.g. to refresh the one in docs/.</summary>
    private const string KeepScreenshot = "SYSEXT_CATALOGUE_SCREENSHOT";

    private readonly OciPusher _pusher = new(registry.Url);

    [Fact]
    public async Task Chromium_RepositoryPage_RendersAtPhoneWidth()
    {
        const string repository = "sysexts/browser/kubernetes";
        await PushVersionsAsync(repository, "Kubernetes node binaries (kubelet, kubeadm, kubectl) as a sysext");
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        var url = new Uri(proxy.Url, repository + "/");

        var dom = await Chromium.DumpDomAsync(url);
        var (png, width, height) = await Chromium.ScreenshotAsync(url);

        Assert.Contains("<title>sysexts/browser/kubernetes · Sysext Functions</title>", dom, StringComparison.Ordinal);
        Assert.Contains("<h1>sysexts/browser/kubernetes</h1>", dom, StringComparison.Ordinal);
        Assert.True(dom.IndexOf("<h3>v1.31.0</h3>", StringComparison.Ordinal) is var newer and > 0 && newer < dom.IndexOf("<h3>v1.30.1</h3>", StringComparison.Ordinal));
        Assert.Contains("kubernetes-v1.31.0-x86-64.raw", dom, StringComparison.Ordinal);
        Assert.Contains("kubernetes-v1.30.1-arm64.raw", dom, StringComparison.Ordinal);
        Assert.Contains("3.5 MiB", dom, StringComparison.Ordinal);
        Assert.Contains("created <time datetime=\"2026-11-20T14:30:00Z\">2026-11-20 14:30 UTC</time>", dom, StringComparison.Ordinal);
        Assert.Contains("MatchPattern=kubernetes-@v-%a.raw", dom, StringComparison.Ordinal);
        Assert.Equal((412, 900), (width, height));
        // A blank or error page of this size compresses to a few KiB; text, boxes and badges take more.
        Assert.True(png.Length > 20_000, $"screenshot of {png.Length} bytes looks empty");
        if (Environment.GetEnvironmentVariable(KeepScreenshot) is { Length: > 0 } keep)
        {
            await File.WriteAllBytesAsync(keep, png);
        }
    }

    [Fact]
    public async Task Chromium_MarkupInAnnotation_ShownAsTextNeverRun()
    {
        const string repository = "sysexts/browser/hostile/kubernetes";
        await PushVersionsAsync(repository, "Kubernetes <b>node</b> tools <script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">");
        await using var proxy = await ProxyServer.StartAsync(registry.Url);

        var dom = await Chromium.DumpDomAsync(new Uri(proxy.Url, repository + "/"));

        Assert.Contains("<h1>sysexts/browser/hostile/kubernetes</h1>", dom, StringComparison.Ordinal);
        Assert.Contains("Kubernetes &lt;b&gt;node&lt;/b&gt; tools &lt;script&gt;", dom, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", dom, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>", dom, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", dom, StringComparison.Ordinal);
        Assert.Contains("<title>sysexts/browser/hostile/kubernetes · Sysext Functions</title>", dom, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chromium_Index_LinksRepositories()
    {
        await PushAsync("sysexts/browser/index/hello", "v1", [1, 2, 3], null, null);
        await using var proxy = await ProxyServer.StartAsync(registry.Url);

        var dom = await Chromium.DumpDomAsync(proxy.Url);

        Assert.Contains("<h1>Sysext Functions</h1>", dom, StringComparison.Ordinal);
        Assert.Contains("<a href=\"/sysexts/browser/index/hello/\">sysexts/browser/index/hello</a>", dom, StringComparison.Ordinal);
    }

    /// <summary>Two versions, each an index over an amd64 and an arm64 image.</summary>
    private async Task PushVersionsAsync(string repository, string description)
    {
        foreach (var (version, created, seed) in new[] { ("v1.30.1", "2026-10-02T09:00:00Z", 1), ("v1.31.0", "2026-11-20T14:30:00Z", 3) })
        {
            var amd64 = await PushAsync(repository, null, Payloads.Random((3 * 1024 + 512) * 1024, seed), created, description);
            var arm64 = await PushAsync(repository, null, Payloads.Random(3 * 1024 * 1024, seed + 1), created, description);
            await _pusher.PushIndexAsync(repository, version, (amd64, "linux", "amd64", null), (arm64, "linux", "arm64", "v8"));
        }
    }

    /// <summary>An oras-style manifest with optional annotations; <paramref name="tag"/> null pushes it by digest, for an index.</summary>
    private async Task<PushedImage> PushAsync(string repository, string? tag, byte[] content, string? created, string? description)
    {
        var empty = "{}"u8.ToArray();
        var annotations = new JsonObject();
        if (created is not null)
        {
            annotations["org.opencontainers.image.created"] = created;
        }

        if (description is not null)
        {
            annotations["org.opencontainers.image.description"] = description;
        }

        var layer = await _pusher.PushBlobAsync(repository, content);
        var manifest = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["artifactType"] = "application/vnd.unknown.artifact.v1",
            ["config"] = new JsonObject { ["mediaType"] = MediaTypes.OciEmpty, ["digest"] = await _pusher.PushBlobAsync(repository, empty), ["size"] = empty.Length },
            ["layers"] = new JsonArray(new JsonObject { ["mediaType"] = MediaTypes.OciLayerTar, ["digest"] = layer, ["size"] = content.Length, ["annotations"] = new JsonObject { [Descriptor.TitleAnnotation] = "kubernetes.raw" } }),
            ["annotations"] = annotations,
        }.ToJsonString());
        var digest = OciPusher.Sha256(manifest);
        await _pusher.PushManifestAsync(repository, tag ?? digest, MediaTypes.OciManifest, manifest);
        return new PushedImage(digest, manifest.Length, layer);
    }
}
