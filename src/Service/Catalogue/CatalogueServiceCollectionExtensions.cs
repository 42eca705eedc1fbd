using Microsoft.Extensions.DependencyInjection;
using SysextFunctions.Http.Pages;

namespace SysextFunctions.Catalogue;

public static class CatalogueServiceCollectionExtensions
{
    /// <summary>The catalogue page, its JSON, the transfer definitions and the index.</summary>
    public static IServiceCollection AddSysextCatalogue(this IServiceCollection services)
    {
        services.AddSingleton<ImageConfigDates>();
        services.AddSingleton<CatalogueService>();
        services.AddSingleton<ServedRepositories>();
        services.AddSingleton<CatalogueEndpoints>();
        return services;
    }
}
