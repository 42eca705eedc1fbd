using Microsoft.Extensions.DependencyInjection;
using SysextFunctions.Http.Pages;

namespace SysextFunctions.Catalogue;

public static class CatalogueServiceCollectionExtensions
{
    /// <summary>The catalogue page, its JSON, the transfer definitions and the index; an <see cref="IPublisherTrust"/> registered before or after is picked up.</summary>
    public static IServiceCollection AddSysextCatalogue(this IServiceCollection services)
    {
        services.AddSingleton<ImageConfigDates>();
        services.AddSingleton(sp => new CatalogueService(
            sp.GetRequiredService<Sysupdate.SysextCatalogue>(),
            sp.GetRequiredService<ImageConfigDates>(),
            sp.GetService<IPublisherTrust>()));
        services.AddSingleton<ServedRepositories>();
        services.AddSingleton<CatalogueEndpoints>();
        return services;
    }
}
