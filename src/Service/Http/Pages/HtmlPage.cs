using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace SysextFunctions.Http.Pages;

/// <summary>
/// A whole page, sent with a Content-Security-Policy that allows no script, no external resource and no inline
/// style but our one style sheet (by its hash): even markup that slipped through encoding could not run.
/// </summary>
public sealed class HtmlPage(string title, string body) : IResult
{
    /// <summary>The one style sheet of every page: plain, readable on a phone, light or dark as the device is.</summary>
    public const string Style =
        ":root{color-scheme:light dark;font-family:system-ui,sans-serif;line-height:1.45}" +
        "body{margin:0 auto;max-width:50rem;padding:.8rem 1rem 2rem}" +
        "header{font-size:.9rem}" +
        "h1{font-size:1.35rem;margin:.3rem 0;overflow-wrap:anywhere}" +
        "h2{font-size:1.1rem;margin:1.6rem 0 .5rem}" +
        "h3{font-size:1rem;margin:0}" +
        "a{overflow-wrap:anywhere}" +
        ".muted{opacity:.75;font-size:.9rem}" +
        ".version{border:1px solid #8886;border-radius:.5rem;padding:.5rem .8rem;margin:.6rem 0}" +
        ".files{list-style:none;padding:0;margin:.3rem 0 0}" +
        ".files li{padding:.4rem 0;border-top:1px solid #8883}" +
        ".arch{display:inline-block;min-width:4.5rem;font-weight:600}" +
        "code,pre{font-family:ui-monospace,monospace;font-size:.85rem}" +
        "pre{background:#8881;padding:.6rem;border-radius:.4rem;overflow-x:auto}" +
        "pre,.all{user-select:all;-webkit-user-select:all}" +
        ".all{overflow-wrap:anywhere}" +
        "summary{cursor:pointer}" +
        ".badge{padding:0 .4rem;border-radius:.3rem;font-weight:600}" +
        ".yes{background:#2a74}.no{background:#d804}";

    /// <summary>
    /// No scripts, frames, forms, images or fonts; styles only our own sheet, named by its SHA-256 (CSP Level 2 hash
    /// source), so not even an injected style attribute applies.
    /// </summary>
    public static readonly string ContentSecurityPolicy =
        $"default-src 'none'; style-src 'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Style)))}'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public int StatusCode { get; init; } = StatusCodes.Status200OK;

    public string Render() =>
        new HtmlBuilder()
            .Append($"<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append($"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append($"<title>{title}</title>\n<style>{new Markup(Style)}</style>\n</head>\n<body>\n{new Markup(body)}</body>\n</html>\n")
            .ToString();

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var bytes = Encoding.UTF8.GetBytes(Render());
        var response = httpContext.Response;
        response.StatusCode = StatusCode;
        response.ContentType = "text/html; charset=utf-8";
        response.ContentLength = bytes.Length;
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.CacheControl = "no-cache";
        response.Headers.Vary = "Accept";
        if (!HttpMethods.IsHead(httpContext.Request.Method))
        {
            await response.Body.WriteAsync(bytes, httpContext.RequestAborted).ConfigureAwait(false);
        }
    }
}
