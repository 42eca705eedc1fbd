using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SysextFunctions.Catalogue;
using SysextFunctions.Http;
using SysextFunctions.Http.Pages;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Rollouts;
using SysextFunctions.Sysupdate;
using SysextFunctions.Trust;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Hosting;

/// <summary>The composition root both hostings share: each part's options bound to its section, and its services.</summary>
public static class ServiceCollectionExtensions
{
    public static IServiceCollection AddSysextProxy(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<SysextMetrics>();
        services.AddSingleton<IdleMemoryTrim>();
        services.AddOptions<ProxyOptions>().Bind(configuration.GetSection(ProxyOptions.Section))
            .Configure(o => o.AllowedHosts = configuration["AllowedHosts"]).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ProxyOptions>, ProxyOptionsValidation>();

        services.AddOptions<CacheOptions>().Bind(configuration.GetSection(CacheOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CacheOptions>, CacheOptionsValidation>();
        // Keys hold a repository path (up to the 1 KiB a request path may have), values a whole SHA256SUMS.
        // HybridCache keeps entries in the IMemoryCache, which tells time by its own clock: make it ours.
        services.AddOptions<MemoryCacheOptions>().Configure<TimeProvider>((o, time) => o.Clock = new MemoryCacheClock(time));
        services.AddHybridCache(o => (o.MaximumKeyLength, o.MaximumPayloadBytes) = (4096, 64 * 1024 * 1024));
        services.AddSingleton<ManifestCache>();
        services.AddSysextTrust(configuration);
        services.AddUpstreams(configuration);

        services.AddOptions<SigningOptions>().Bind(configuration.GetSection(SigningOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SigningOptions>, SigningOptionsValidation>();
        // The key the start-up check loaded (LoadedKeys), not a second copy of it.
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<SigningOptions>>().Value.LoadSigner(sp.GetRequiredService<LoadedKeys>()));
        services.AddSingleton<SysextListing>();
        services.AddRollouts(configuration);
        services.AddSysextListing();
        services.AddSingleton<CatalogueEndpoints>();
        services.AddSingleton<HttpCaching>();
        services.AddSingleton<SysextHandler>();
        return services;
    }
}
