using SysextFunctions.Registry;
using SysextFunctions.Registry.Oci;
using SysextFunctions.Rollouts;
using SysextFunctions.Trust;

namespace SysextFunctions.Upstreams;

/// <summary>Where a client-facing repository's content lives: a source, the repository name there, and the id of the configured upstream the source belongs to (the scope of everything cached about it).</summary>
public sealed record Upstream(IOciSource Source, string Repository, string RegistryId)
{
    /// <summary>The keys its tags must be signed with (cosign), or null when nothing is verified.</summary>
    public CosignKeySet? CosignKeys { get; init; }

    /// <summary>The schedule new versions follow (<c>Rollout:Steps</c> or the mapping's own), or null: no rollout.</summary>
    public RolloutSchedule? Rollout { get; init; }
}

/// <summary>
/// A client path mapped to an upstream repository: exact (<c>kubernetes</c> → <c>flatcar/sysext-kubernetes</c>) or
/// by prefix (<c>tools/*</c> → <c>sysexts/tools/*</c>, <c>*</c> → <c>sysexts/*</c>), on the registry with
/// <paramref name="RegistryId"/> (empty: the default registry).
/// </summary>
/// <param name="Path">The client path, without the <c>/*</c> of a prefix; empty for <c>*</c>.</param>
/// <param name="Repository">The upstream repository, without the <c>/*</c> of a prefix.</param>
public sealed record RepositoryMapping(string Path, string Repository, bool IsPrefix, string RegistryId)
{
    /// <summary>The keys this mapping's tags must be signed with, replacing <c>Trust:CosignKeys</c>; null: those.</summary>
    public CosignKeySet? CosignKeys { get; init; }

    /// <summary>This mapping's schedule, replacing <c>Rollout:Steps</c>; null: that one.</summary>
    public RolloutSchedule? Rollout { get; init; }

    /// <summary>Reads one configured mapping; the error is a one-line reason.</summary>
    public static RepositoryMapping Parse(string? path, string? repository, string? registryId)
    {
        if (string.IsNullOrEmpty(path) || string.IsNullOrEmpty(repository))
        {
            throw new FormatException("a mapping needs both Path and Repository");
        }

        var pathPrefix = path == "*" || path.EndsWith("/*", StringComparison.Ordinal);
        var repositoryPrefix = repository.EndsWith("/*", StringComparison.Ordinal);
        if (pathPrefix != repositoryPrefix)
        {
            throw new FormatException($"mapping '{path}' → '{repository}': a prefix (ending in /*) maps only to a prefix");
        }

        var clientPath = path == "*" ? "" : pathPrefix ? path[..^2] : path;
        var upstream = repositoryPrefix ? repository[..^2] : repository;
        if ((clientPath.Length > 0 && !Reference.IsValidRepository(clientPath)) || !Reference.IsValidRepository(upstream))
        {
            throw new FormatException($"mapping '{path}' → '{repository}': not a repository name (lower-case, a-z0-9 separated by . _ - /)");
        }

        return new RepositoryMapping(clientPath, upstream, pathPrefix, registryId ?? "");
    }

    /// <summary>The upstream repository for a client repository, or null when this mapping does not cover it.</summary>
    public string? Map(string repository)
    {
        if (!IsPrefix)
        {
            return repository == Path ? Repository : null;
        }

        if (Path.Length == 0)
        {
            return $"{Repository}/{repository}";
        }

        return repository.Length > Path.Length + 1 && repository.StartsWith(Path + "/", StringComparison.Ordinal)
            ? $"{Repository}/{repository[(Path.Length + 1)..]}"
            : null;
    }
}

/// <summary>
/// Maps the repository a client asks for to its upstream. Without mappings, the default registry is passed
/// through under the same name. With any mapping, only mapped paths are served: an endpoint with credentials
/// to a private registry must never expose repositories nobody chose to publish.
/// </summary>
public sealed class UpstreamResolver
{
    private readonly IReadOnlyList<RepositoryMapping> _mappings;
    private readonly Func<string, IOciSource> _sources;
    private readonly CosignKeySet? _cosignKeys;
    private readonly RolloutSchedule? _rollout;

    public UpstreamResolver(IOciSource defaultSource)
        : this([], _ => defaultSource)
    {
    }

    /// <param name="sources">The source of a registry id (empty: the default registry).</param>
    /// <param name="cosignKeys">The keys tags must be signed with where a mapping names none (<c>Trust:CosignKeys</c>).</param>
    /// <param name="rollout">The schedule where a mapping names none (<c>Rollout:Steps</c>).</param>
    public UpstreamResolver(IReadOnlyList<RepositoryMapping> mappings, Func<string, IOciSource> sources, CosignKeySet? cosignKeys = null, RolloutSchedule? rollout = null)
    {
        _cosignKeys = cosignKeys;
        _rollout = rollout;
        // Exact paths first, then the longest prefix: "tools/k8s" beats "tools/*" beats "*".
        _mappings = [.. mappings.OrderBy(m => m.IsPrefix).ThenByDescending(m => m.Path.Length)];
        _sources = sources;
    }

    /// <summary>The configured mappings, exact paths first; empty when the default registry is passed through.</summary>
    public IReadOnlyList<RepositoryMapping> Mappings => _mappings;

    /// <summary>The default registry, which serves every repository under its own name when there are no mappings.</summary>
    public IOciSource DefaultSource => _sources("");

    /// <summary>The upstream of a client-facing repository, or null when it is not served.</summary>
    public Upstream? Resolve(string repository)
    {
        if (_mappings.Count == 0)
        {
            return new Upstream(_sources(""), repository, "") { CosignKeys = _cosignKeys, Rollout = _rollout };
        }

        foreach (var mapping in _mappings)
        {
            if (mapping.Map(repository) is { } upstream)
            {
                return Reference.IsValidRepository(upstream) ? new Upstream(_sources(mapping.RegistryId), upstream, mapping.RegistryId) { CosignKeys = mapping.CosignKeys ?? _cosignKeys, Rollout = mapping.Rollout ?? _rollout } : null;
            }
        }

        return null;
    }
}
