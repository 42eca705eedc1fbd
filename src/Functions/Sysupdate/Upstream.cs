using SysextFunctions.Registry;

namespace SysextFunctions.Sysupdate;

/// <summary>Where a client-facing repository's content lives: a source and the repository name there.</summary>
public sealed record Upstream(IOciSource Source, string Repository);

/// <summary>
/// Maps the repository a client asks for to its upstream. Without a mapping, the default registry is passed
/// through under the same name.
/// </summary>
public sealed class UpstreamResolver(IOciSource defaultSource)
{
    /// <summary>The upstream of a client-facing repository, or null when it is not served.</summary>
    public Upstream? Resolve(string repository) => new(defaultSource, repository);
}
