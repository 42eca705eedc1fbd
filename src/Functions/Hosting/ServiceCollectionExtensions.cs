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
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(10),
            })
            .AddRegistryResilience();

        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RegistryOptions>>().Value;
            var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient(RegistryClientName);
            return new RegistryClient(http, options.Url, options.Timeout, sp.GetRequiredService<ILogger<RegistryClient>>());
        });
        services.AddSingleton<IOciSource>(sp => sp.GetRequiredService<RegistryClient>());
        // A key that cannot be read or unlocked stops the start, rather than failing every signature request.
        services.AddOptions<SigningOptions>().Bind(configuration.GetSection(SigningOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SigningOptions>, SigningOptionsValidation>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<SigningOptions>>().Value.CreateSigner());
        services.AddSingleton<UpstreamResolver>();
        services.AddSingleton<SysextCatalogue>();
        services.AddSingleton<SysextHandler>();
        return services;
    }

    private sealed class SigningOptionsValidation : IValidateOptions<SigningOptions>
    {
        public ValidateOptionsResult Validate(string? name, SigningOptions options)
        {
            try
            {
                _ = options.CreateSigner();
                return ValidateOptionsResult.Success;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }
}
