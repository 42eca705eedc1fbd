using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Rollouts;

public static partial class RolloutServices
{
    /// <summary>
    /// Logging categories that write request paths, which under <c>/_m/&lt;key&gt;/</c> carry a machine key, and the
    /// level they are held at whatever the configuration says: ASP.NET Core's hosting logs request lines
    /// (Information) and, while any level of it is on, opens a scope with <c>RequestPath</c> around everything logged
    /// during a request (which a provider with scopes on would write out); route matching logs the path at Debug.
    /// The handler logs what matters about a request itself, with the machine's hash.
    /// </summary>
    public static readonly (string Category, LogLevel Level)[] PathLoggingCategories =
        [("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None), ("Microsoft.AspNetCore.Routing", LogLevel.Warning)];

    /// <summary>The <c>Rollout</c> settings, machine keys, the rollout service, and the logging rules that keep keys out of logs.</summary>
    public static IServiceCollection AddRollouts(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RolloutOptions>().Bind(configuration.GetSection(RolloutOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RolloutOptions>, RolloutOptionsValidation>();
        services.AddSingleton(sp => new MachineKeys(sp.GetRequiredService<IOptions<RolloutOptions>>().Value.MachineKeySecret));
        services.AddSingleton<RolloutService>();
        services.AddHostedService<RolloutStartupCheck>();
        services.AddLogging(logging =>
        {
            // Added after the configuration's rules, so they win over a rule for the same category there.
            foreach (var (category, level) in PathLoggingCategories)
            {
                logging.AddFilter(category, level);
            }
        });
        return services;
    }

    /// <summary>Says at start what an operator should know: schedules in force with the built-in machine key secret.</summary>
    private sealed partial class RolloutStartupCheck(MachineKeys keys, UpstreamResolver upstreams, IOptions<RolloutOptions> options, ILogger<RolloutStartupCheck> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var scheduled = options.Value.Schedule() is not null || upstreams.Mappings.Any(m => m.Rollout is not null);
            if (scheduled && keys.IsDefaultSecret)
            {
                LogDefaultSecret(logger);
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(EventId = 6005, Level = LogLevel.Warning, Message = "Rollout schedules are configured but Rollout:MachineKeySecret is not set: machine hashes in logs can be matched against known machine ids by anyone who knows the built-in secret")]
        private static partial void LogDefaultSecret(ILogger logger);
    }
}
