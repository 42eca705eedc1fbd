using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Http;

/// <summary>
/// What a cache in front of us (a CDN, a proxy, systemd-pull itself) may keep, and for how long (RFC 9111).
/// Nothing is fresher downstream than it is here: a listing may be kept for what is left of its own time to live,
/// a file for at most one time to live, because a tag can be re-pushed and a file <em>name</em> then means other
/// bytes. Errors are never stored (<see cref="ErrorResults"/>).
/// </summary>
public sealed class HttpCaching(IOptions<CacheOptions> options, TimeProvider time)
{
    /// <summary>
    /// With <c>Cache:ChecksumsTtl=0</c> every request lists afresh, so a cache may keep a copy but must ask again
    /// each time (RFC 9111 §5.2.2.4). <c>no-cache</c> rather than <c>max-age=0</c>: a stale response may still be
    /// served by a cache that cannot reach us (§4.2.4), and some CDNs read <c>max-age=0</c> as "use your default";
    /// revalidation stays cheap, since the ETag answers it with a 304.
    /// </summary>
    public const string Revalidate = "no-cache";

    /// <summary>For SHA256SUMS and its signatures: fresh for what is left of the listing's time to live.</summary>
    public string ForListing(RepositorySnapshot snapshot)
    {
        var ttl = options.Value.ChecksumsTtl;
        if (ttl <= TimeSpan.Zero)
        {
            return Revalidate;
        }

        var left = snapshot.ListedAt + ttl - time.GetUtcNow();
        return Public(left);
    }

    /// <summary>For files and the redirects to them: fresh for one listing time to live at most.</summary>
    public string ForFile()
    {
        var ttl = options.Value.ChecksumsTtl;
        return ttl <= TimeSpan.Zero ? Revalidate : Public(ttl);
    }

    /// <summary>
    /// Whether the request's <c>If-None-Match</c> names <paramref name="etag"/> (or is <c>*</c>), compared weakly as
    /// RFC 9110 §13.1.2 asks for this header.
    /// </summary>
    public static bool NoneMatchHits(HttpRequest request, EntityTagHeaderValue etag)
    {
        var noneMatch = request.GetTypedHeaders().IfNoneMatch;
        return noneMatch.Any(candidate => candidate.Equals(EntityTagHeaderValue.Any) || candidate.Compare(etag, useStrongComparison: false));
    }

    /// <summary><paramref name="inner"/> with a <c>Cache-Control</c> header, which a 304 carries too (RFC 9111 §4.3.4).</summary>
    public static IResult With(string cacheControl, IResult inner) => new WithCacheControl(cacheControl, inner);

    /// <summary>
    /// <paramref name="inner"/> made <c>private</c> (RFC 9111 §5.2.2.7), whatever it said: a machine-scoped answer is
    /// one machine's, and a shared cache (a CDN) must never hand it to another. Applied as the headers go out, so it
    /// covers every answer under <c>/_m/</c>, errors and 304s included.
    /// </summary>
    public static IResult Private(IResult inner) => new PrivateResult(inner);

    /// <summary>A 304 for a representation the client already holds, with the headers its 200 would have had.</summary>
    public static IResult NotModified(string cacheControl, EntityTagHeaderValue etag) => new NotModifiedResult(cacheControl, etag);

    // Rounded down: a cache must never hold a listing longer than we do. "public": nothing served depends on who
    // asks (requests carry no credentials, RFC 9111 §5.2.2.9).
    private static string Public(TimeSpan left) =>
        "public, max-age=" + ((long)Math.Max(0, Math.Floor(left.TotalSeconds))).ToString(CultureInfo.InvariantCulture);

    private sealed class WithCacheControl(string cacheControl, IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.CacheControl = cacheControl;
            return inner.ExecuteAsync(httpContext);
        }
    }

    private sealed class PrivateResult(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.OnStarting(() =>
            {
                var given = response.Headers.CacheControl.ToString();
                response.Headers.CacheControl = given.Length == 0 ? "private"
                    : given.Contains("public", StringComparison.Ordinal) ? given.Replace("public", "private", StringComparison.Ordinal)
                    : given.Contains("private", StringComparison.Ordinal) ? given
                    : "private, " + given;
                return Task.CompletedTask;
            });
            return inner.ExecuteAsync(httpContext);
        }
    }

    private sealed class NotModifiedResult(string cacheControl, EntityTagHeaderValue etag) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status304NotModified;
            httpContext.Response.Headers.CacheControl = cacheControl;
            httpContext.Response.Headers.ETag = etag.ToString();
            return Task.CompletedTask;
        }
    }
}
