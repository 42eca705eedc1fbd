using Microsoft.Extensions.Options;
using SysextFunctions.Rollouts;
using SysextFunctions.Trust;

namespace SysextFunctions.Upstreams;

/// <summary>
/// One entry of the <c>Mappings</c> list: a client path (exact, <c>tools/*</c> for a prefix, or <c>*</c> for
/// everything) to an upstream repository (exact, or a prefix ending in <c>/*</c>) on a registry.
/// </summary>
public sealed class MappingOptions
{
    public const string Section = "Mappings";

    public string? Path { get; set; }

    public string? Repository { get; set; }

    /// <summary>An id under <c>Registries</c>; empty for the default registry.</summary>
    public string? Registry { get; set; }

    /// <summary>Publisher keys (PEM text or file paths) that replace <c>Trust:CosignKeys</c> for this mapping.</summary>
    public List<string>? CosignKeys { get; set; }

    /// <summary><c>Mappings:&lt;n&gt;:Rollout:Steps</c>: this mapping's schedule, replacing <c>Rollout:Steps</c>.</summary>
    public MappingRolloutOptions? Rollout { get; set; }

    /// <summary>
    /// This entry parsed, with its keys loaded once per host by <paramref name="keys"/>; <paramref name="key"/> is its
    /// key under <c>Mappings</c>.
    /// </summary>
    /// <exception cref="FormatException">The path or repository is not one.</exception>
    /// <exception cref="InvalidOperationException">A key cannot be read or is no usable public key.</exception>
    public RepositoryMapping Parse(string key, LoadedKeys keys) =>
        RepositoryMapping.Parse(Path, Repository, Registry) with
        {
            CosignKeys = keys.LoadCosignKeys(CosignKeys, $"{Section}:{key}:{nameof(CosignKeys)}"),
            Rollout = Rollout?.Schedule(),
        };
}

/// <summary>The <c>Mappings</c> section, by key (<c>Mappings:0</c>, <c>Mappings:1</c>, …).</summary>
public sealed class MappingsOptions
{
    public Dictionary<string, MappingOptions> Entries { get; } = [];

    /// <summary>The mappings, parsed; <see cref="MappingsOptionsValidation"/> has checked them, and loaded their keys, at start.</summary>
    public IReadOnlyList<RepositoryMapping> Parse(LoadedKeys keys) =>
        [.. Entries.Select(e => e.Value.Parse(e.Key, keys))];
}

/// <summary>The configured upstream ids, the default (<see cref="UpstreamOptions.DefaultId"/>) first.</summary>
public sealed record UpstreamIds(IReadOnlyList<string> All);

/// <summary>Checks the mappings at start: each parses, names a configured registry, and no path is mapped twice.</summary>
public sealed class MappingsOptionsValidation(UpstreamIds upstreams, LoadedKeys keys) : IValidateOptions<MappingsOptions>
{
    public ValidateOptionsResult Validate(string? name, MappingsOptions options)
    {
        var mappings = new List<RepositoryMapping>();
        foreach (var (key, entry) in options.Entries)
        {
            var section = $"{MappingOptions.Section}:{key}";
            RepositoryMapping mapping;
            try
            {
                mapping = entry.Parse(key, keys);
            }
            catch (FormatException e)
            {
                return ValidateOptionsResult.Fail($"{section}: {e.Message}");
            }
            catch (InvalidOperationException e)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }

            if (!upstreams.All.Contains(mapping.RegistryId))
            {
                return ValidateOptionsResult.Fail($"{section}: no registry '{mapping.RegistryId}' under {UpstreamOptions.RegistriesSection}");
            }

            if (mappings.Any(m => m.Path == mapping.Path && m.IsPrefix == mapping.IsPrefix))
            {
                return ValidateOptionsResult.Fail($"{section}: path '{entry.Path}' is mapped twice");
            }

            mappings.Add(mapping);
        }

        return ValidateOptionsResult.Success;
    }
}
