using Microsoft.AspNetCore.Http;
using SysextFunctions.Http;
using SysextFunctions.Http.Pages;

namespace SysextFunctions.Tests.Unit.Service.Http.Pages;

public class PagesTests
{
    [Fact]
    public void HtmlBuilder_Holes_EncodedLiteralsAndMarkupNot()
    {
        var hostile = "<script>alert(\"x\")</script>' onload='x";

        var html = new HtmlBuilder().Append($"<p title=\"{hostile}\">{hostile}{new Markup("<br>")}{42L}</p>").ToString();

        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("\"x\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("' onload", html, StringComparison.Ordinal);
        Assert.StartsWith("<p title=\"&lt;script&gt;", html, StringComparison.Ordinal);
        Assert.EndsWith("<br>42</p>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void ContentSecurityPolicy_NoScriptsStyleByHash()
    {
        var csp = HtmlPage.ContentSecurityPolicy;
        var hash = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(HtmlPage.Style)));

        Assert.StartsWith("default-src 'none';", csp, StringComparison.Ordinal);
        Assert.Contains($"style-src 'sha256-{hash}'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("script-src", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
        Assert.Contains($"<style>{HtmlPage.Style}</style>", new HtmlPage("t", "").Render(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", CatalogueFormat.Html)]
    [InlineData("application/json", CatalogueFormat.Json)]
    [InlineData("*/*", CatalogueFormat.Json)]
    [InlineData(null, CatalogueFormat.Json)]
    [InlineData("text/html;q=0.5, application/json", CatalogueFormat.Json)]
    [InlineData("text/html, application/json", CatalogueFormat.Html)]
    [InlineData("application/*", CatalogueFormat.Json)]
    [InlineData("text/*", CatalogueFormat.Html)]
    [InlineData("image/png", CatalogueFormat.None)]
    [InlineData("application/json;q=0", CatalogueFormat.None)]
    public void Negotiation_Accept_ChoosesFormat(string? accept, CatalogueFormat format)
    {
        var context = new DefaultHttpContext();
        if (accept is not null)
        {
            context.Request.Headers.Accept = accept;
        }

        Assert.Equal(format, Negotiation.Choose(context.Request));
    }

    [Theory]
    [InlineData("http", "127.0.0.1:5001", null, null, false, "http://127.0.0.1:5001/")]
    [InlineData("http", "sysext.example", "https", "cdn.example", false, "http://sysext.example/")]
    [InlineData("http", "sysext.example", "https", "cdn.example", true, "https://cdn.example/")]
    [InlineData("http", "internal:8080", "http, https", "a.example, b.example:8443", true, "https://b.example:8443/")]
    [InlineData("http", "[::1]:5001", null, null, true, "http://[::1]:5001/")]
    [InlineData("http", "h", "gopher", null, true, null)]
    [InlineData("http", "h", null, "evil\nMatchPattern=x", true, null)]
    [InlineData("http", "h", null, "user@evil", true, null)]
    [InlineData("http", "h", null, "evil/path", true, null)]
    [InlineData("http", "", null, null, false, null)]
    public void RequestOrigin_HostAndForwardedHeaders_OnlyWhenTrusted(string scheme, string host, string? proto, string? forwardedHost, bool trust, string? expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = scheme;
        context.Request.Host = new HostString(host);
        if (proto is not null)
        {
            context.Request.Headers["X-Forwarded-Proto"] = proto;
        }

        if (forwardedHost is not null)
        {
            context.Request.Headers["X-Forwarded-Host"] = forwardedHost;
        }

        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;

        Assert.Equal(expected, RequestOrigin.Of(context.Request, new ProxyOptions { TrustForwardedHeaders = trust }).Origin?.AbsoluteUri);
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1024, "1.0 KiB")]
    [InlineData(65536 + 512, "64.5 KiB")]
    [InlineData(300L * 1024 * 1024, "300.0 MiB")]
    [InlineData(5L * 1024 * 1024 * 1024, "5.0 GiB")]
    public void Size_Bytes_HumanReadable(long bytes, string text) => Assert.Equal(text, RepositoryPage.Size(bytes));
}
