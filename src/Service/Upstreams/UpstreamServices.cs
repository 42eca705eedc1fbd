using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Layout;
using SysextFunctions.Registry.Remote;
using SysextFunctions.Registry.Remote.Auth;
using SysextFunctions.Rollouts;
using SysextFunctions.Sysupdate;
using SysextFunctions.Trust;
using SysextFunctions.Upstreams.Acr;

namespace SysextFunctions.Upstreams;

/// <summary>
/// Builds every upstream from its <see cref="UpstreamOptions"/>: a source (a registry client over its own HTTP
/// pipeline, or a layout directory) wrapped in the manifest cache, its credentials and tokens, and its
/// <see cref="UpstreamTimeouts"/>, all keyed by the upstream's id; and the resolver that maps client paths to them.
/// </summary>
public static class UpstreamServices
{
    public static IServiceCollection AddUpstreams(this IServiceCollection services, IConfiguration configuration)
    {
        var ids = new UpstreamIds([UpstreamOptions.DefaultId, .. configuration.GetSection(UpstreamOptions.RegistriesSection).GetChildren().Select(s => s.Key)]);
        services.AddSingleton(ids);
        services.AddSingleton<IValidateOptions<UpstreamOptions>, UpstreamOptionsValidation>();
        services.TryAddSingleton<IHostAddressResolver>(SystemHostAddressResolver.Instance);
        services.AddOptions<RegistryResilienceOptions>().Bind(configuration.GetSection(RegistryResilienceOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RegistryResilienceOptions>, RegistryResilienceOptionsValidation>();
        services.AddOptions<ListingOptions>().Bind(configuration.GetSection(ListingOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ListingOptions>, ListingOptionsValidation>();
        foreach (var id in ids.All)
        {
            AddUpstream(services, configuration, id);
        }

        services.AddSingleton(sp => sp.GetRequiredKeyedService<IOciSource>(UpstreamOptions.DefaultId));
        services.AddOptions<MappingsOptions>().Configure(o => configuration.GetSection(MappingOptions.Section).Bind(o.Entries)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MappingsOptions>, MappingsOptionsValidation>();
        services.TryAddSingleton<LoadedKeys>();
        // The cosign keys the start-up check loaded (LoadedKeys), not second copies of them.
        services.AddSingleton(sp => new UpstreamResolver(
            sp.GetRequiredService<IOptions<MappingsOptions>>().Value.Parse(sp.GetRequiredService<LoadedKeys>()),
            id => sp.GetRequiredKeyedService<IOciSource>(id),
            sp.GetRequiredService<IOptions<TrustOptions>>().Value.LoadKeys(sp.GetRequiredService<LoadedKeys>()),
            sp.GetRequiredService<IOptions<RolloutOptions>>().Value.Schedule()));
        return services;
    }

    private static void AddUpstream(IServiceCollection services, IConfiguration configuration, string id)
    {
        var options = services.AddOptions<UpstreamOptions>(id).Bind(configuration.GetSection(UpstreamOptions.SectionOf(id)));
        if (id == UpstreamOptions.DefaultId)
        {
            options.PostConfigure(o =>
            {
                // The default upstream always has a URL, which a Layout replaces.
                o.Url = o.Layout is null ? o.Url ?? UpstreamOptions.DefaultUrl : null;
                o.Timeout ??= UpstreamOptions.DefaultTimeout;
            });
        }
        else
        {
            // Registry:Timeout, read from configuration: the default's options cannot be asked for while these are
            // being made (the monitor would depend on itself).
            var defaults = configuration.GetSection(UpstreamOptions.DefaultSection);
            options.PostConfigure(o => o.Timeout ??= defaults.GetValue<TimeSpan?>(nameof(UpstreamOptions.Timeout)) ?? UpstreamOptions.DefaultTimeout);
        }

        options.ValidateOnStart();

        services.AddKeyedSingleton(id, (sp, _) => new UpstreamTimeouts(
            Options(sp, id).Timeout!.Value,
            sp.GetRequiredService<IOptions<RegistryResilienceOptions>>().Value.AttemptTimeout));
        services.AddKeyedSingleton(id, (sp, _) => Options(sp, id).CreateCredentials(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<AcrTokenProvider>>()));
        services.AddKeyedSingleton(id, (sp, _) => new TokenCache(sp.GetRequiredService<TimeProvider>()));
        services.AddKeyedSingleton(id, (sp, _) => new TokenRealmPolicy(Options(sp, id).Url!, Options(sp, id).TokenRealmOrigins, sp.GetRequiredService<IHostAddressResolver>()));
        // Read once per upstream (validation has read it at start too): every pooled handler trusts the same CAs.
        services.AddKeyedSingleton(id, (sp, _) => new UpstreamCaCertificates(Options(sp, id).CaCertificateFile is { Length: > 0 } file
            ? UpstreamTrust.Load(file, $"{UpstreamOptions.SectionOf(id)}:CaCertificateFile")
            : null));
        AddHttpClient(services, id);
        services.AddKeyedSingleton<IOciSource>(id, (sp, _) => new CachingOciSource(CreateSource(sp, id), sp.GetRequiredService<ManifestCache>(), id));
    }

    private static UpstreamOptions Options(IServiceProvider services, string id) =>
        services.GetRequiredService<IOptionsMonitor<UpstreamOptions>>().Get(id);

    private static IOciSource CreateSource(IServiceProvider services, string id)
    {
        var options = Options(services, id);
        var timeouts = services.GetRequiredKeyedService<UpstreamTimeouts>(id);
        if (options.Layout is { } layout)
        {
            return new OciLayoutSource(layout, timeouts, services.GetRequiredService<ILogger<OciLayoutSource>>());
        }

        return AcrTagListing.Wrap(
            new RegistryClient(
                services.GetRequiredService<IHttpClientFactory>().CreateClient(UpstreamOptions.ClientName(id)),
                options.Url!,
                timeouts,
                services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<ILogger<RegistryClient>>())
            {
                Authenticated = options.CredentialKind != RegistryCredentialKind.None,
                Limits = services.GetRequiredService<IOptions<ListingOptions>>().Value.Limits,
            },
            options.TagListingMode,
            services.GetRequiredService<ILogger<AcrTagListing>>());
    }

    /// <summary>
    /// The one place an upstream registry's HTTP pipeline is built: resilience outermost (so a retried attempt
    /// authenticates afresh), then the auth handler, over a socket handler that never follows redirects.
    /// Handlers added here apply to every upstream.
    /// </summary>
    private static IHttpClientBuilder AddHttpClient(IServiceCollection services, string id) =>
        services.AddHttpClient(UpstreamOptions.ClientName(id), client => client.Timeout = Timeout.InfiniteTimeSpan)
            // The factory's per-request logging handlers log nothing at the levels we ship (appsettings.json puts
            // System.Net.Http.HttpClient at Warning) but open a logging scope on every request: a listing makes
            // hundreds. Failures are logged by RegistryClient and the resilience pipeline instead.
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
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
                // A private registry's own CA (CaCertificateFile) is trusted for this upstream only.
                SslOptions = UpstreamTrust.ClientOptions(sp.GetRequiredKeyedService<UpstreamCaCertificates>(id).Roots),
            })
            .AddRegistryResilience(id)
            .AddHttpMessageHandler(sp => new RegistryAuthHandler(
                Options(sp, id).Url!,
                sp.GetRequiredKeyedService<RegistryCredentials>(id),
                sp.GetRequiredKeyedService<TokenCache>(id),
                sp.GetRequiredKeyedService<TokenRealmPolicy>(id),
                sp.GetRequiredService<ILogger<RegistryAuthHandler>>()));
}
