using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace SysextFunctions.Trust;

/// <summary>
/// The <c>Trust</c> configuration section: the publisher keys every tag must be signed with (cosign), unless a
/// mapping names its own (<c>Mappings:&lt;n&gt;:CosignKeys</c>). No key: nothing is verified.
/// </summary>
public sealed class TrustOptions
{
    public const string Section = "Trust";

    /// <summary>Each a PEM public key (cosign.pub) or the path of a file holding one.</summary>
    public List<string> CosignKeys { get; set; } = [];

    /// <summary>
    /// How long a manifest digest found unsigned (or signed by no configured key) is taken as such without asking the
    /// registry again: a warm listing of unsigned tags then costs no referrer look-ups, and a tag signed later is
    /// listed at most this late. Zero asks on every listing.
    /// </summary>
    public TimeSpan UnsignedRecheck { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The configured keys, or null when there are none; loaded once per host by <paramref name="keys"/>.</summary>
    /// <exception cref="InvalidOperationException">A key is not usable; the message names it.</exception>
    public CosignKeySet? LoadKeys(LoadedKeys keys) => keys.LoadCosignKeys(CosignKeys, $"{Section}:{nameof(CosignKeys)}");
}

public static class TrustServiceCollectionExtensions
{
    /// <summary>The trust settings, checked at start-up (a key that is no usable public key stops the start), and the verifier.</summary>
    public static IServiceCollection AddSysextTrust(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<LoadedKeys>();
        services.AddOptions<TrustOptions>().Bind(configuration.GetSection(TrustOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TrustOptions>, TrustOptionsValidation>();
        services.AddSingleton<SignatureVerifier>();
        return services;
    }

    /// <summary>The keys this loads are the ones that verify (<see cref="LoadedKeys"/>).</summary>
    private sealed class TrustOptionsValidation(LoadedKeys keys) : IValidateOptions<TrustOptions>
    {
        public ValidateOptionsResult Validate(string? name, TrustOptions options)
        {
            if (options.UnsignedRecheck < TimeSpan.Zero)
            {
                return ValidateOptionsResult.Fail($"{TrustOptions.Section}:{nameof(TrustOptions.UnsignedRecheck)} must not be negative");
            }

            try
            {
                _ = options.LoadKeys(keys);
                return ValidateOptionsResult.Success;
            }
            catch (InvalidOperationException e)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }
}
