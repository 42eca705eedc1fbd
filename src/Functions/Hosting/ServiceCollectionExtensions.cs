using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SysextFunctions.Http;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Hosting;

public static class ServiceCollectionExtensions
{
    public const string RegistryClientName = "registry";

    /// <summary>Registers everything both hostings share: options, the registry client and the handler.</summary>
    public static IServiceCollection AddSysextProxy(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ProxyOptions>().Bind(configuration.GetSection(ProxyOptions.Section));
        services.AddOptions<RegistryOptions>().Bind(configuration.GetSection(RegistryOptions.Section))
            .Validate(o => o.Url.IsAbsoluteUri && o.Url.Scheme is "http" or "https", "Registry:Url must be an absolute http or https URL")
            .ValidateOnStart();

        services.AddHttpClient(RegistryClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // Redirects are followed by RegistryClient itself: it passes them on or drops credentials.
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.None,
                // Keep-alive connections are pooled and reused by every listing; renewed now and then for DNS.
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                // Not capped per server (MaxConnectionsPerServer): a streamed blob holds its connection for the
                // whole download, and a cap would queue listings behind downloads. Listings bound themselves
                // (Cache:ResolveParallelism). Over HTTP/2, more connections once a server's stream limit is hit.
                EnableMultipleHttp2Connections = true,
                ConnectTimeout = TimeSpan.FromSeconds(10),
            });

        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RegistryOptions>>().Value;
            var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient(RegistryClientName);
            return new RegistryClient(http, options.Url, options.Timeout, sp.GetRequiredService<ILogger<RegistryClient>>());
        });
        services.AddOptions<CacheOptions>().Bind(configuration.GetSection(CacheOptions.Section))
            .Validate(o => o.ChecksumsTtl >= TimeSpan.Zero && o.ManifestCacheBytes > 0 && o.ResolveParallelism > 0, "Cache:ChecksumsTtl must not be negative; Cache:ManifestCacheBytes and Cache:ResolveParallelism must be positive")
            .ValidateOnStart();
        // Keys hold a repository path (up to the 1 KiB a request path may have), values a whole SHA256SUMS.
        services.AddHybridCache(o => (o.MaximumKeyLength, o.MaximumPayloadBytes) = (4096, 64 * 1024 * 1024));
        services.AddSingleton<ManifestCache>();
        // Every source is wrapped here, once: manifests by digest are cached whatever the source.
        services.AddSingleton<IOciSource>(sp => new CachingOciSource(sp.GetRequiredService<RegistryClient>(), sp.GetRequiredService<ManifestCache>()));
        services.AddSingleton<UpstreamResolver>();
        services.AddSingleton<SysextCatalogue>();
        services.AddSingleton<SysextHandler>();
        return services;
    }
}
