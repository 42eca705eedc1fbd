using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Http;

/// <summary>What an answer is, as far as a cache in front of us is concerned: each route of <see cref="SysupdatePath"/> maps to one.</summary>
public enum CacheRoute
{
    /// <summary>Anything refused before a route was known (a bad method or path): only errors.</summary>
    None,

    /// <summary><c>/</c>: the one-line description or, for a browser, the index page, chosen by <c>Accept</c>.</summary>
    Root,

    /// <summary>SHA256SUMS and its detached signatures: fresh for what is left of the listing.</summary>
    Listing,

    /// <summary>A file, its 304 or the redirect to it.</summary>
    File,

    /// <summary><c>/&lt;repository&gt;/</c>: the page or the JSON, chosen by <c>Accept</c>.</summary>
    Catalogue,

    /// <summary><c>/&lt;repository&gt;/catalogue.json</c>: the JSON under a URL of its own, the same for every client.</summary>
    CatalogueJson,

    /// <summary><c>/&lt;repository&gt;/&lt;name&gt;.transfer</c>: text that names the URL this server is reached at.</summary>
    Transfer,
}

/// <summary>
/// The one place that decides what a cache in front of us (a CDN, a proxy, systemd-pull itself) may keep, and for how
/// long (RFC 9111), for every route and every status. <see cref="SysextHandler"/> names the route and, for answers made
/// from a listing, when it was listed; this sets <c>Cache-Control</c> (and <c>Vary</c>) as the response starts,
/// whatever the result did, so that no answer goes out without them.
/// <list type="bullet">
/// <item>Errors (4xx, 5xx): <c>no-store</c>. A registry hiccup cached by a CDN would outlive the hiccup, and a 404 for a
/// tag about to be pushed would hide it (RFC 9111 §5.2.2.5).</item>
/// <item>SHA256SUMS, signatures, files, <c>catalogue.json</c>, and the transfer definition when
/// <c>Proxy:PublicUrl</c> fixes its URL: <c>public</c>, never fresher downstream than here: a listing for what is left of
/// its time to live, a file for at most one time to live (a re-pushed tag makes a file <em>name</em> mean other bytes).</item>
/// <item>Answers chosen by <c>Accept</c> (<c>/</c>, <c>/&lt;repository&gt;/</c>): <c>private, no-cache</c> with
/// <c>Vary: Accept</c>. A CDN that ignores <c>Vary</c> (or keys only by path) could otherwise hand the page to a
/// program or the JSON to a browser; <c>private</c> keeps them out of every shared cache. The JSON has a stable URL
/// of its own for caches: <c>catalogue.json</c>.</item>
/// <item>Answers that name the URL the client used (the transfer definition and the page, without
/// <c>Proxy:PublicUrl</c>): <c>no-store</c>, so that a definition made for one <c>Host</c> never reaches another client.</item>
/// <item>Machine-scoped answers (a path under a machine key): as above with <c>private</c> for <c>public</c>, so that a
/// CDN never hands one machine's list to another.</item>
/// </list>
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

    public const string NoStore = "no-store";

    /// <summary>For answers chosen by <c>Accept</c>: a browser may keep and revalidate them, no shared cache may.</summary>
    public const string Negotiated = "private, no-cache";

    /// <summary>The route and facts of one request that the policy reads when the response starts.</summary>
    public sealed class Decision
    {
        public CacheRoute Route { get; set; }

        /// <summary>When the listing the answer was made from was made, if it was made from one.</summary>
        public DateTimeOffset? ListedAt { get; set; }

        /// <summary>A path under a machine key: the answer is for one machine only.</summary>
        public bool MachineScoped { get; set; }

        /// <summary>The answer names the URL the request used (its Host, or forwarded headers): no cache may keep it.</summary>
        public bool FromRequestHost { get; set; }
    }

    /// <summary>
    /// Starts deciding for <paramref name="context"/>: whatever is answered from now on, its headers are set by
    /// <see cref="Apply"/> when the response starts. Returns the decision, to which the handler adds what it learns.
    /// </summary>
    public Decision Begin(HttpContext context)
    {
        var decision = new Decision();
        context.Features.Set(decision);
        context.Response.OnStarting(() =>
        {
            Apply(context.Response, decision);
            return Task.CompletedTask;
        });
        return decision;
    }

    /// <summary>Notes the listing an answer was made from (for its <c>max-age</c>).</summary>
    public static void Listed(HttpContext context, DateTimeOffset listedAt)
    {
        if (context.Features.Get<Decision>() is { } decision)
        {
            decision.ListedAt = listedAt;
        }
    }

    /// <summary>Notes that the answer names the URL the request used (no <c>Proxy:PublicUrl</c>).</summary>
    public static void DependsOnHost(HttpContext context)
    {
        if (context.Features.Get<Decision>() is { } decision)
        {
            decision.FromRequestHost = true;
        }
    }

    /// <summary>The headers of a response with <paramref name="decision"/>'s route and the response's status, set over whatever was there.</summary>
    public void Apply(HttpResponse response, Decision decision)
    {
        var (cacheControl, vary) = Decide(decision.Route, response.StatusCode, decision.ListedAt, decision.MachineScoped, decision.FromRequestHost, options.Value.ChecksumsTtl, time.GetUtcNow());
        response.Headers.CacheControl = cacheControl;
        if (vary is not null)
        {
            response.Headers.Vary = vary;
        }
        else
        {
            response.Headers.Remove(HeaderNames.Vary);
        }
    }

    /// <summary>The policy itself: <c>Cache-Control</c> and <c>Vary</c> for a route and status.</summary>
    public static (string CacheControl, string? Vary) Decide(CacheRoute route, int status, DateTimeOffset? listedAt, bool machineScoped, bool fromRequestHost, TimeSpan ttl, DateTimeOffset now)
    {
        // 304 carries what its 200 would have (RFC 9111 §4.3.4); 3xx only on files (the redirect to the bytes).
        var success = status is >= 200 and < 300 or StatusCodes.Status304NotModified
            || (route == CacheRoute.File && status is >= 300 and < 400);
        if (!success)
        {
            return (NoStore, route is CacheRoute.Root or CacheRoute.Catalogue ? "Accept" : null);
        }

        var cacheControl = route switch
        {
            _ when fromRequestHost => NoStore,
            CacheRoute.Root or CacheRoute.Catalogue => Negotiated,
            CacheRoute.Listing or CacheRoute.CatalogueJson or CacheRoute.Transfer => ForListing(listedAt, ttl, now),
            CacheRoute.File => ForFile(ttl),
            _ => NoStore,
        };
        if (machineScoped && cacheControl != NoStore && !cacheControl.StartsWith("private", StringComparison.Ordinal))
        {
            // One machine's answer, whatever its freshness: never in a shared cache (RFC 9111 §5.2.2.7).
            cacheControl = cacheControl.StartsWith("public", StringComparison.Ordinal) ? "private" + cacheControl["public".Length..] : "private, " + cacheControl;
        }

        return (cacheControl, route is CacheRoute.Root or CacheRoute.Catalogue ? "Accept" : null);
    }

    /// <summary>For answers made from a listing: fresh for what is left of the listing's time to live.</summary>
    private static string ForListing(DateTimeOffset? listedAt, TimeSpan ttl, DateTimeOffset now) =>
        ttl <= TimeSpan.Zero || listedAt is not { } listed ? Revalidate : Public(listed + ttl - now);

    /// <summary>For files and the redirects to them: fresh for one listing time to live at most.</summary>
    private static string ForFile(TimeSpan ttl) => ttl <= TimeSpan.Zero ? Revalidate : Public(ttl);

    /// <summary>
    /// Whether the request's <c>If-None-Match</c> names <paramref name="etag"/> (or is <c>*</c>), compared weakly as
    /// RFC 9110 §13.1.2 asks for this header.
    /// </summary>
    public static bool NoneMatchHits(HttpRequest request, EntityTagHeaderValue etag)
    {
        var noneMatch = request.GetTypedHeaders().IfNoneMatch;
        return noneMatch.Any(candidate => candidate.Equals(EntityTagHeaderValue.Any) || candidate.Compare(etag, useStrongComparison: false));
    }

    /// <summary>The strong ETag of a body: its SHA-256, so that equal bytes give an equal tag on every instance.</summary>
    public static EntityTagHeaderValue ETagOf(ReadOnlySpan<byte> body) =>
        new($"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body))}\"");

    /// <summary>A 304 for a representation the client already holds, with the ETag its 200 would have had.</summary>
    public static IResult NotModified(EntityTagHeaderValue etag) => new NotModifiedResult(etag);

    // Rounded down: a cache must never hold a listing longer than we do. "public": nothing served depends on who
    // asks (requests carry no credentials, RFC 9111 §5.2.2.9).
    private static string Public(TimeSpan left) =>
        "public, max-age=" + ((long)Math.Max(0, Math.Floor(left.TotalSeconds))).ToString(CultureInfo.InvariantCulture);

    private sealed class NotModifiedResult(EntityTagHeaderValue etag) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status304NotModified;
            httpContext.Response.Headers.ETag = etag.ToString();
            return Task.CompletedTask;
        }
    }
}
