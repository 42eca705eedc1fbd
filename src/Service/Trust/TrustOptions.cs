using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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

    /// <summary>The configured keys, or null when there are none.</summary>
    /// <exception cref="InvalidOperationException">A key is not usable; the message names it.</exception>
    public CosignKeySet? LoadKeys() => CosignKeySet.Load(CosignKeys, $"{Section}:{nameof(CosignKeys)}");
}

public static class TrustServiceCollectionExtensions
{
    /// <summary>The trust settings, checked at start-up (a key that is no usable public key stops the start), and the verifier.</summary>
    public static IServiceCollection AddSysextTrust(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TrustOptions>().Bind(configuration.GetSection(TrustOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TrustOptions>, TrustOptionsValidation>();
        services.AddSingleton<SignatureVerifier>();
        return services;
    }

    private sealed class TrustOptionsValidation : IValidateOptions<TrustOptions>
    {
        public ValidateOptionsResult Validate(string? name, TrustOptions options)
        {
            try
            {
                _ = options.LoadKeys();
                return ValidateOptionsResult.Success;
            }
            catch (InvalidOperationException e)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }
}
