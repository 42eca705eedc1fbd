using Microsoft.Extensions.Options;
using SysextFunctions.Sysupdate;

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
}

/// <summary>The <c>Mappings</c> section, by key (<c>Mappings:0</c>, <c>Mappings:1</c>, …).</summary>
public sealed class MappingsOptions
{
    public Dictionary<string, MappingOptions> Entries { get; } = [];

    /// <summary>The mappings, parsed; <see cref="MappingsOptionsValidation"/> has checked them at start.</summary>
    public IReadOnlyList<RepositoryMapping> Parse() =>
        [.. Entries.Values.Select(o => RepositoryMapping.Parse(o.Path, o.Repository, o.Registry))];
}

/// <summary>The configured upstream ids, the default (<see cref="UpstreamOptions.DefaultId"/>) first.</summary>
public sealed record UpstreamIds(IReadOnlyList<string> All);

/// <summary>Checks the mappings at start: each parses, names a configured registry, and no path is mapped twice.</summary>
public sealed class MappingsOptionsValidation(UpstreamIds upstreams) : IValidateOptions<MappingsOptions>
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
                mapping = RepositoryMapping.Parse(entry.Path, entry.Repository, entry.Registry);
            }
            catch (FormatException e)
            {
                return ValidateOptionsResult.Fail($"{section}: {e.Message}");
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
