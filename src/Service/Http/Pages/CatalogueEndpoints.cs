using System.Text.Json;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using SysextFunctions.Catalogue;
using SysextFunctions.Registry;
using SysextFunctions.Sysupdate;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Http.Pages;

/// <summary>
/// The catalogue's answers, called by <see cref="SysextHandler"/> once it has parsed the path and resolved the
/// repository through the mappings (so the catalogue shows exactly what SHA256SUMS serves): the page or JSON at
/// <c>/&lt;repository&gt;/</c>, the transfer definition, and the index at <c>/</c> for browsers.
/// </summary>
public sealed class CatalogueEndpoints(CatalogueService catalogues, ServedRepositories served, IOptions<ProxyOptions> options)
{
    /// <summary>Whether <c>/</c> should answer with the index page rather than the one-line description.</summary>
    public static bool WantsPage(HttpRequest request) =>
        request.Headers.Accept.Count > 0 && Negotiation.Choose(request) == CatalogueFormat.Html;

    public async Task<IResult> IndexAsync(HttpContext context)
    {
        try
        {
            return IndexPage.Create(await served.GetAsync(context.RequestAborted).ConfigureAwait(false));
        }
        catch (RegistryException e)
        {
            return ErrorResults.From(e);
        }
    }

    public async Task<IResult> CatalogueAsync(Upstream upstream, SysupdatePath path, HttpContext context)
    {
        var format = Negotiation.Choose(context.Request);
        if (format == CatalogueFormat.None)
        {
            return ErrorResults.Text(StatusCodes.Status406NotAcceptable, $"the catalogue is served as {Negotiation.Html} or {Negotiation.Json}");
        }

        if (format == CatalogueFormat.Json)
        {
            return await JsonAsync(upstream, path, context).ConfigureAwait(false);
        }

        var (url, refusal) = RepositoryUrl(context.Request, path);
        if (url is null)
        {
            return NoOrigin(refusal);
        }

        var page = await catalogues.GetAsync(upstream, path, withConfigDates: true, context.RequestAborted).ConfigureAwait(false);
        HttpCaching.Listed(context, page.ListedAt);
        return RepositoryPage.Create(page, url, TransferDefinition.Render(page.Repository, page.Name, page.Files, url, page.ListSigned, phased: page.Rollout is not null));
    }

    /// <summary>The catalogue as JSON: at <c>/&lt;repository&gt;/</c> for programs, and at its own URL, <c>catalogue.json</c>, for caches.</summary>
    public async Task<IResult> JsonAsync(Upstream upstream, SysupdatePath path, HttpContext context)
    {
        var catalogue = await catalogues.GetAsync(upstream, path, withConfigDates: true, context.RequestAborted).ConfigureAwait(false);
        HttpCaching.Listed(context, catalogue.ListedAt);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(CatalogueDocument.From(catalogue), CatalogueJsonContext.Default.CatalogueDocument);
        // The bytes result answers If-None-Match with a 304 itself.
        return Results.Bytes(bytes, "application/json; charset=utf-8", entityTag: HttpCaching.ETagOf(bytes));
    }

    public async Task<IResult> TransferAsync(Upstream upstream, SysupdatePath path, HttpContext context)
    {
        var (url, refusal) = RepositoryUrl(context.Request, path);
        if (url is null)
        {
            return NoOrigin(refusal);
        }

        var catalogue = await catalogues.GetAsync(upstream, path, withConfigDates: false, context.RequestAborted).ConfigureAwait(false);
        HttpCaching.Listed(context, catalogue.ListedAt);
        var bytes = Encoding.UTF8.GetBytes(TransferDefinition.Render(catalogue.Repository, catalogue.Name, catalogue.Files, url, catalogue.ListSigned, phased: catalogue.Rollout is not null));
        return Results.Bytes(bytes, "text/plain; charset=utf-8", entityTag: HttpCaching.ETagOf(bytes));
    }

    /// <summary><c>scheme://host[:port]/&lt;repository&gt;/</c> as clients reach it (<see cref="RequestOrigin"/>).</summary>
    private (Uri? Url, RequestOrigin.Refusal Refusal) RepositoryUrl(HttpRequest request, SysupdatePath path)
    {
        if (options.Value.PublicUrl is null)
        {
            HttpCaching.DependsOnHost(request.HttpContext);
        }

        var (origin, refusal) = RequestOrigin.Of(request, options.Value);
        return (origin is null ? null : new Uri(origin, path.Repository + "/"), refusal);
    }

    // The host is not echoed: it is the client's text.
    private static IResult NoOrigin(RequestOrigin.Refusal refusal) => refusal == RequestOrigin.Refusal.NotAllowed
        ? ErrorResults.Text(StatusCodes.Status400BadRequest, "this host name is not among AllowedHosts; ask by the server's name")
        : ErrorResults.Text(StatusCodes.Status400BadRequest, "no usable Host (or X-Forwarded-Proto/-Host) to build the source URL from");
}
