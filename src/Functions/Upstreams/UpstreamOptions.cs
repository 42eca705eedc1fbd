namespace SysextFunctions.Hosting;

/// <summary>How the proxy authenticates to an upstream registry.</summary>
public enum RegistryCredentialKind
{
    /// <summary>Anonymously (the registry may still hand out anonymous tokens).</summary>
    None,

    /// <summary>Username and password: Basic auth, or Basic to the registry's token service.</summary>
    Basic,

    /// <summary>An Azure managed identity (user-assigned with ManagedIdentityClientId), for Azure Container Registry.</summary>
    ManagedIdentity,

    /// <summary>Azure.Identity's DefaultAzureCredential chain (environment, workload identity, managed identity, CLI…).</summary>
    DefaultAzure,
}

/// <summary>
/// One upstream under <c>Registries:&lt;id&gt;</c>: a registry (<see cref="Url"/>) or an OCI image layout
/// directory (<see cref="Layout"/>).
/// </summary>
public sealed class UpstreamOptions
{
    public Uri? Url { get; set; }

    /// <summary>A directory holding one OCI image layout per repository (<c>&lt;Layout&gt;/&lt;repository&gt;/index.json</c>).</summary>
    public string? Layout { get; set; }

    public string? Username { get; set; }

    /// <summary>From the environment or a secret store; never from a file the repository tracks.</summary>
    public string? Password { get; set; }

    /// <summary>Basic when <see cref="Username"/> is set, else None, unless set.</summary>
    public RegistryCredentialKind? Credential { get; set; }

    /// <summary>The client ID of a user-assigned managed identity; empty for the system-assigned one.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>How long to wait for the registry's response headers; defaults to <c>Registry:Timeout</c>.</summary>
    public TimeSpan? Timeout { get; set; }
}

/// <summary>The <c>Registry</c> configuration section: the default upstream.</summary>
public sealed class RegistryOptions
{
    public const string Section = "Registry";

    public Uri Url { get; set; } = new("http://localhost:5000");

    /// <summary>How long to wait for a registry's response headers.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Serve an OCI image layout directory instead of <see cref="Url"/>.</summary>
    public string? Layout { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    public RegistryCredentialKind? Credential { get; set; }

    public string? ManagedIdentityClientId { get; set; }

    internal UpstreamOptions AsUpstream() => new()
    {
        // A layout replaces the URL, which otherwise always has its default.
        Url = Layout is null ? Url : null,
        Layout = Layout,
        Username = Username,
        Password = Password,
        Credential = Credential,
        ManagedIdentityClientId = ManagedIdentityClientId,
        Timeout = Timeout,
    };
}

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
