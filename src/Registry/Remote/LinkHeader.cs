namespace SysextFunctions.Registry.Remote;

/// <summary>
/// The <c>Link</c> header (RFC 8288 §3) as registries page tag lists with it:
/// <c>Link: &lt;/v2/name/tags/list?n=100&amp;last=v9&gt;; rel="next"</c>.
/// </summary>
internal static class LinkHeader
{
    /// <summary>The <c>rel="next"</c> target, resolved against the current page; null on the last page.</summary>
    /// <exception cref="RegistryException">The next page is on another origin: the request would carry the registry's credentials there.</exception>
    public static Uri? Next(HttpResponseMessage response, Uri current)
    {
        if (!response.Headers.TryGetValues("Link", out var values))
        {
            return null;
        }

        foreach (var header in values)
        {
            foreach (var link in header.Split(','))
            {
                var open = link.IndexOf('<', StringComparison.Ordinal);
                var close = link.IndexOf('>', StringComparison.Ordinal);
                if (open < 0 || close <= open)
                {
                    continue;
                }

                var parameters = link[(close + 1)..];
                if (parameters.Contains("rel=\"next\"", StringComparison.OrdinalIgnoreCase) || parameters.Contains("rel=next", StringComparison.OrdinalIgnoreCase))
                {
                    var target = link[(open + 1)..close].Trim();
                    return Uri.TryCreate(current, target, out var next) && Origin.Same(next, current)
                        ? next
                        : throw new RegistryException(RegistryFailure.InvalidResponse, "tag list points its next page at another host");
                }
            }
        }

        return null;
    }
}
