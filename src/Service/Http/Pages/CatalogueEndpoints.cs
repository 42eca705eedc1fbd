using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using SysextFunctions.Catalogue;
using SysextFunctions.Registry;
using SysextFunctions.Sysupdate;

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
            var catalogue = await catalogues.GetAsync(upstream, path, withConfigDates: true, context.RequestAborted).ConfigureAwait(false);
            context.Response.Headers.Vary = "Accept";
            return Results.Bytes(
                JsonSerializer.SerializeToUtf8Bytes(CatalogueDocument.From(catalogue), CatalogueJsonContext.Default.CatalogueDocument),
                "application/json; charset=utf-8");
        }

        if (RepositoryUrl(context.Request, path) is not { } url)
        {
            return NoOrigin();
        }

        var page = await catalogues.GetAsync(upstream, path, withConfigDates: true, context.RequestAborted).ConfigureAwait(false);
        return RepositoryPage.Create(page, url, TransferDefinition.Render(page.Repository, page.Name, page.Files, url, page.ListSigned, phased: page.Rollout is not null));
    }

    public async Task<IResult> TransferAsync(Upstream upstream, SysupdatePath path, HttpContext context)
    {
        if (RepositoryUrl(context.Request, path) is not { } url)
        {
            return NoOrigin();
        }

        var catalogue = await catalogues.GetAsync(upstream, path, withConfigDates: false, context.RequestAborted).ConfigureAwait(false);
        var text = TransferDefinition.Render(catalogue.Repository, catalogue.Name, catalogue.Files, url, catalogue.ListSigned, phased: catalogue.Rollout is not null);
        return Results.Bytes(Encoding.UTF8.GetBytes(text), "text/plain; charset=utf-8");
    }

    /// <summary><c>scheme://host[:port]/&lt;repository&gt;/</c> as the client reached it.</summary>
    private Uri? RepositoryUrl(HttpRequest request, SysupdatePath path) =>
        RequestOrigin.Of(request, options.Value.TrustForwardedHeaders) is { } origin ? new Uri(origin, path.Repository + "/") : null;

    private static IResult NoOrigin() =>
        ErrorResults.Text(StatusCodes.Status400BadRequest, "no usable Host (or X-Forwarded-Proto/-Host) to build the source URL from");
}
