using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace SysextFunctions.Http.Pages;

/// <summary>What a catalogue request wants back.</summary>
public enum CatalogueFormat
{
    /// <summary>The page, for browsers: they name <c>text/html</c> first.</summary>
    Html,

    /// <summary>The JSON document, for programs and for clients that take anything (<c>*/*</c>, no Accept at all).</summary>
    Json,

    /// <summary>Neither is acceptable: 406.</summary>
    None,
}

/// <summary>
/// Reads <c>Accept</c> (RFC 9110 §12.5.1) for the catalogue. A page goes only to clients that ask for
/// <c>text/html</c> by name at least as strongly as for JSON; <c>curl</c> and probes, which send <c>*/*</c> or
/// nothing, get JSON, and at <c>/</c> the one-line description as before.
/// </summary>
public static class Negotiation
{
    public const string Json = "application/json";
    public const string Html = "text/html";

    public static CatalogueFormat Choose(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted) || accepted.Count == 0)
        {
            return CatalogueFormat.Json;
        }

        var html = Quality(accepted, Html, exactOnly: true);
        var json = Quality(accepted, Json, exactOnly: false);
        if (html is > 0 && html >= (json ?? 0))
        {
            return CatalogueFormat.Html;
        }

        if (json is > 0)
        {
            return CatalogueFormat.Json;
        }

        return Quality(accepted, Html, exactOnly: false) is > 0 ? CatalogueFormat.Html : CatalogueFormat.None;
    }

    /// <summary>The quality given to <paramref name="mediaType"/>: by its exact name, else through <c>type/*</c> or <c>*/*</c>.</summary>
    private static double? Quality(IList<MediaTypeHeaderValue> accepted, string mediaType, bool exactOnly)
    {
        var exact = accepted.Where(a => a.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase)).Select(a => a.Quality ?? 1).DefaultIfEmpty(-1).Max();
        if (exact >= 0 || exactOnly)
        {
            return exact >= 0 ? exact : null;
        }

        var type = mediaType[..mediaType.IndexOf('/', StringComparison.Ordinal)];
        var wildcard = accepted.Where(a => a.MatchesAllSubTypes && (a.MatchesAllTypes || a.Type.Equals(type, StringComparison.OrdinalIgnoreCase)))
            .Select(a => a.Quality ?? 1).DefaultIfEmpty(-1).Max();
        return wildcard >= 0 ? wildcard : null;
    }
}
