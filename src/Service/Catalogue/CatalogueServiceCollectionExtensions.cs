using Microsoft.Extensions.DependencyInjection;

namespace SysextFunctions.Catalogue;

public static class CatalogueServiceCollectionExtensions
{
    /// <summary>What the catalogue page, its JSON, the transfer definitions and the index are made from (the pages themselves are Http/Pages').</summary>
    public static IServiceCollection AddSysextListing(this IServiceCollection services)
    {
        services.AddSingleton<ImageConfigDates>();
        services.AddSingleton<CatalogueService>();
        services.AddSingleton<ServedRepositories>();
        return services;
    }
}
