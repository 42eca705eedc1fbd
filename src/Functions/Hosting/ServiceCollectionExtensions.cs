using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SysextFunctions.Http;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Layout;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Registry.Remote.Auth;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Hosting;

public static class ServiceCollectionExtensions
{
    public const string RegistryClientName = "registry";

    /// <summary>Registers everything both hostings share: options, the upstreams and their clients, the handler.</summary>
    public static IServiceCollection AddSysextProxy(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ProxyOptions>().Bind(configuration.GetSection(ProxyOptions.Section));
        services.AddOptions<RegistryOptions>().Bind(configuration.GetSection(RegistryOptions.Section));
        services.TryAddSingleton(TimeProvider.System);

        var settings = UpstreamSettings.Read(configuration);
        services.AddSingleton(settings);
        foreach (var upstream in settings.Registries)
        {
            if (upstream.Layout is { } layout)
            {
                services.AddKeyedSingleton<IOciSource>(upstream.Id, (sp, _) => Cached(sp, new OciLayoutSource(layout, sp.GetRequiredService<ILogger<OciLayoutSource>>())));
                continue;
            }

            services.AddKeyedSingleton(upstream.Id, (_, _) => upstream.CreateCredentials());
            services.AddKeyedSingleton(upstream.Id, (sp, _) => new TokenCache(sp.GetRequiredService<TimeProvider>()));
            AddUpstreamHttpClient(services, upstream);
            services.AddKeyedSingleton<IOciSource>(upstream.Id, (sp, _) => Cached(sp, new RegistryClient(
                sp.GetRequiredService<IHttpClientFactory>().CreateClient(upstream.ClientName),
                upstream.Url!,
                upstream.Timeout,
                sp.GetRequiredService<ILogger<RegistryClient>>())
            {
                Authenticated = upstream.Credential != RegistryCredentialKind.None,
            }));
        }

        services.AddOptions<CacheOptions>().Bind(configuration.GetSection(CacheOptions.Section))
            .Validate(o => o.ChecksumsTtl >= TimeSpan.Zero && o.ManifestCacheBytes > 0 && o.ResolveParallelism > 0, "Cache:ChecksumsTtl must not be negative; Cache:ManifestCacheBytes and Cache:ResolveParallelism must be positive")
            .ValidateOnStart();
        // Keys hold a repository path (up to the 1 KiB a request path may have), values a whole SHA256SUMS.
        services.AddHybridCache(o => (o.MaximumKeyLength, o.MaximumPayloadBytes) = (4096, 64 * 1024 * 1024));
        services.AddSingleton<ManifestCache>();

        services.AddSingleton(sp => sp.GetRequiredKeyedService<IOciSource>(UpstreamRegistry.DefaultId));
        services.AddSingleton(sp => new UpstreamResolver(settings.Mappings, id => sp.GetRequiredKeyedService<IOciSource>(id)));
        // A key that cannot be read or unlocked stops the start, rather than failing every signature request.
        services.AddOptions<SigningOptions>().Bind(configuration.GetSection(SigningOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SigningOptions>, SigningOptionsValidation>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<SigningOptions>>().Value.CreateSigner());
        services.AddSingleton<SysextCatalogue>();
        services.AddSingleton<SysextHandler>();
        return services;
    }

    /// <summary>Every source is wrapped here, once: manifests by digest are cached whatever the source.</summary>
    private static CachingOciSource Cached(IServiceProvider services, IOciSource source) =>
        new(source, services.GetRequiredService<ManifestCache>());

    /// <summary>
    /// The one place an upstream registry's HTTP pipeline is built: resilience outermost (so a retried attempt
    /// authenticates afresh), then the auth handler, over a socket handler that never follows redirects.
    /// Handlers added here apply to every upstream.
    /// </summary>
    private static IHttpClientBuilder AddUpstreamHttpClient(IServiceCollection services, UpstreamRegistry upstream) =>
        services.AddHttpClient(upstream.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
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
            })
            .AddRegistryResilience()
            .AddHttpMessageHandler(sp => new RegistryAuthHandler(
                upstream.Url!,
                sp.GetRequiredKeyedService<RegistryCredentials>(upstream.Id),
                sp.GetRequiredKeyedService<TokenCache>(upstream.Id),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<RegistryAuthHandler>>()));
}
