using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace SysextFunctions.Registry.Remote;

/// <summary>
/// The one paging loop for every paged listing of a registry: tags, <c>_catalog</c>, referrers and ACR's <c>_tags</c>.
/// Pages are followed by their <c>Link: &lt;…&gt;; rel="next"</c> header
/// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags); where the registry honoured
/// <c>n</c> (a page of exactly <c>n</c> items) but sent no <c>Link</c>, the next page is asked for with <c>last=</c>, as
/// the spec allows. A registry that has sent a <c>Link</c> once pages by <c>Link</c>: its page without one is the last,
/// however full. A page longer than <c>n</c> means <c>n</c> was ignored (Debian's registry 2.8 answers every tag at
/// once): that is the whole list. Neither costs a request that only finds an empty page.
/// The loop stops at a page it has seen before (the same URL, or the same bytes) and at a page that does not
/// advance past the previous one, so that a registry which ignores <c>last</c> or pages in a circle cannot keep a
/// listing going; and it holds every listing to <see cref="ListingLimits"/>.
/// </summary>
public sealed partial class RegistryClient
{
    /// <param name="What">Names the listing in messages, e.g. "tag list of 'sysexts/tool'".</param>
    /// <param name="First">The first page, with <c>n=<paramref name="PageSize"/></c> when the listing pages by <c>n</c>.</param>
    /// <param name="PageSize">The <c>n</c> asked for; 0 when the listing has no <c>n</c> (then no <c>last=</c> either).</param>
    /// <param name="MaxPageBytes">The most bytes one page may have.</param>
    /// <param name="Parse">The items of one page's body (throws <see cref="RegistryException"/> when it is not what it should be).</param>
    /// <param name="Key">An item's name, which <c>last=</c> names and pages are ordered by.</param>
    /// <param name="After">The page after the item named, when the registry sends no <c>Link</c>; null when it cannot be asked for.</param>
    /// <param name="MaxItems">Where the caller stops reading (the listing is then truncated, not refused).</param>
    /// <param name="MaxPages">Where the caller stops reading, likewise.</param>
    /// <param name="AuthScope">The token scope a listing beside the distribution API needs (<see cref="Auth.RegistryAuthHandler.ScopeOption"/>).</param>
    public sealed record PagedListing<T>(
        string What,
        Uri First,
        int PageSize,
        int MaxPageBytes,
        Func<byte[], IEnumerable<T>> Parse,
        Func<T, string> Key,
        Func<string, Uri>? After,
        int MaxItems = int.MaxValue,
        int MaxPages = int.MaxValue,
        string Accept = "application/json",
        string? AuthScope = null);

    /// <summary>How a paged listing ended.</summary>
    public enum PagingEnd
    {
        /// <summary>The registry said this was the last page.</summary>
        Complete,

        /// <summary>The caller's <c>MaxItems</c> or <c>MaxPages</c> was reached.</summary>
        Truncated,

        /// <summary>The registry repeated a page or went back: what it has beyond is unknown.</summary>
        Incomplete,
    }

    public sealed record Paged<T>(IReadOnlyList<T> Items, PagingEnd End);

    /// <summary>Limits on every listing of this client; <see cref="ListingLimits.Default"/> unless configured.</summary>
    public ListingLimits Limits { get; init; } = ListingLimits.Default;

    public async Task<Paged<T>> ReadPagesAsync<T>(PagedListing<T> listing, CancellationToken cancellationToken = default)
    {
        var started = _time.GetTimestamp();
        var items = new List<T>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var bodies = new HashSet<string>(StringComparer.Ordinal);
        long bytes = 0;
        string? previousLast = null;
        var byLast = false;
        var linked = false;
        Uri? next = listing.First;
        for (var page = 0; next is not null; page++)
        {
            if (page == listing.MaxPages || items.Count >= listing.MaxItems)
            {
                return new Paged<T>(items[..Math.Min(items.Count, listing.MaxItems)], PagingEnd.Truncated);
            }

            if (_time.GetElapsedTime(started) > Limits.MaxDuration)
            {
                throw new RegistryException(RegistryFailure.Timeout, $"{listing.What} took longer than {Limits.MaxDuration} ({page} pages)");
            }

            if (!visited.Add(next.AbsoluteUri))
            {
                LogPagingStopped(_logger, listing.What, "a next page it had sent before");
                return new Paged<T>(items, PagingEnd.Incomplete);
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, next);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(listing.Accept));
            if (listing.AuthScope is not null)
            {
                request.Options.Set(Auth.RegistryAuthHandler.ScopeOption, listing.AuthScope);
            }
            using var response = await SendMetadataAsync(request, listing.What, cancellationToken).ConfigureAwait(false);
            var body = await ReadCappedAsync(response, listing.MaxPageBytes, listing.What, cancellationToken).ConfigureAwait(false);
            bytes += body.Length;
            if (bytes > Limits.MaxBytes)
            {
                throw new RegistryException(RegistryFailure.InvalidResponse, $"{listing.What} is larger than {Limits.MaxBytes} bytes");
            }

            if (!bodies.Add(Convert.ToHexString(SHA256.HashData(body))))
            {
                LogPagingStopped(_logger, listing.What, "a page it had sent before");
                return new Paged<T>(items, PagingEnd.Incomplete);
            }

            var pageItems = listing.Parse(body).ToList();
            // Asked for with last=: every item must come after it. A registry that ignores it starts again (or
            // anywhere, in any order); what it has beyond is unknown.
            if (byLast && pageItems.Any(item => string.CompareOrdinal(listing.Key(item), previousLast) <= 0))
            {
                LogPagingStopped(_logger, listing.What, "a page that did not advance past the last one");
                return new Paged<T>(items, PagingEnd.Incomplete);
            }

            foreach (var item in pageItems)
            {
                if (keys.Add(listing.Key(item)))
                {
                    items.Add(item);
                }
            }

            if (items.Count > Limits.MaxTags)
            {
                throw new RegistryException(RegistryFailure.InvalidResponse, $"{listing.What} has more than {Limits.MaxTags} entries");
            }

            next = LinkHeader.Next(response, next);
            linked |= next is not null;
            byLast = false;
            if (next is null && !linked && listing.After is { } after && listing.PageSize > 0 && pageItems.Count == listing.PageSize)
            {
                // Exactly n and no Link, from a registry that never sent one: it honours n but does not say where
                // to go on. After the greatest name of the page, whatever order it came in.
                previousLast = pageItems.Select(listing.Key).Max(StringComparer.Ordinal)!;
                next = after(previousLast);
                byLast = true;
            }
        }

        return items.Count > listing.MaxItems ? new Paged<T>(items[..listing.MaxItems], PagingEnd.Truncated) : new Paged<T>(items, PagingEnd.Complete);
    }

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Stopped reading {What}: the registry sent {Reason}; the list may be incomplete")]
    private static partial void LogPagingStopped(ILogger logger, string what, string reason);
}
