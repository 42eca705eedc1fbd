using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using SysextFunctions.Registry.Remote.Auth;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Hosting;

/// <summary>One configured upstream, checked. Not a record: its ToString must not print the password.</summary>
public sealed class UpstreamRegistry
{
    /// <summary>The id of the default registry (the <c>Registry</c> section).</summary>
    public const string DefaultId = "";

    internal UpstreamRegistry(string id, Uri? url, string? layout, RegistryCredentialKind credential, string? username, string? password, string? managedIdentityClientId, TimeSpan timeout)
    {
        Id = id;
        Url = url;
        Layout = layout;
        Credential = credential;
        Username = username;
        Password = password;
        ManagedIdentityClientId = managedIdentityClientId;
        Timeout = timeout;
    }

    public string Id { get; }

    public Uri? Url { get; }

    public string? Layout { get; }

    public RegistryCredentialKind Credential { get; }

    public string? Username { get; }

    internal string? Password { get; }

    public string? ManagedIdentityClientId { get; }

    public TimeSpan Timeout { get; }

    /// <summary>The named HttpClient of this upstream.</summary>
    public string ClientName => Id == DefaultId ? ServiceCollectionExtensions.RegistryClientName : $"{ServiceCollectionExtensions.RegistryClientName}:{Id}";

    public string Description => Id == DefaultId ? "Registry" : $"Registries:{Id}";

    /// <summary>The credentials to authenticate with; Azure credentials are made once per upstream, they cache tokens.</summary>
    public RegistryCredentials CreateCredentials() => Credential switch
    {
        RegistryCredentialKind.Basic => RegistryCredentials.Basic(Username!, Password ?? ""),
        RegistryCredentialKind.ManagedIdentity => RegistryCredentials.Entra(new ManagedIdentityCredential(
            string.IsNullOrEmpty(ManagedIdentityClientId) ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(ManagedIdentityClientId))),
        RegistryCredentialKind.DefaultAzure => RegistryCredentials.Entra(CreateDefaultAzureCredential()),
        _ => RegistryCredentials.Anonymous,
    };

    private DefaultAzureCredential CreateDefaultAzureCredential()
    {
        var options = new DefaultAzureCredentialOptions();
        if (!string.IsNullOrEmpty(ManagedIdentityClientId))
        {
            options.ManagedIdentityClientId = ManagedIdentityClientId;
        }

        return new DefaultAzureCredential(options);
    }

    public override string ToString() => $"{Description} ({(Layout is not null ? $"layout {Layout}" : Url?.ToString())}, {Credential})";
}

/// <summary>
/// The upstreams and mappings from configuration (<c>Registry</c>, <c>Registries:&lt;id&gt;</c>,
/// <c>Mappings:&lt;n&gt;</c>), checked once at start-up: a wrong setting stops the service with a one-line reason
/// rather than surfacing as odd answers later.
/// </summary>
public sealed class UpstreamSettings
{
    public const string RegistriesSection = "Registries";

    private UpstreamSettings(IReadOnlyList<UpstreamRegistry> registries, IReadOnlyList<RepositoryMapping> mappings)
    {
        Registries = registries;
        Mappings = mappings;
    }

    /// <summary>Every upstream, the default (<see cref="UpstreamRegistry.DefaultId"/>) first.</summary>
    public IReadOnlyList<UpstreamRegistry> Registries { get; }

    public IReadOnlyList<RepositoryMapping> Mappings { get; }

    /// <exception cref="InvalidOperationException">A setting is wrong; the message says which and why.</exception>
    public static UpstreamSettings Read(IConfiguration configuration)
    {
        var defaults = configuration.GetSection(RegistryOptions.Section).Get<RegistryOptions>() ?? new RegistryOptions();
        var registries = new List<UpstreamRegistry> { Check(UpstreamRegistry.DefaultId, defaults.AsUpstream(), defaults.Timeout) };
        foreach (var section in configuration.GetSection(RegistriesSection).GetChildren())
        {
            var options = section.Get<UpstreamOptions>() ?? new UpstreamOptions();
            registries.Add(Check(section.Key, options, defaults.Timeout));
        }

        var mappings = new List<RepositoryMapping>();
        foreach (var section in configuration.GetSection(MappingOptions.Section).GetChildren())
        {
            var options = section.Get<MappingOptions>() ?? new MappingOptions();
            RepositoryMapping mapping;
            try
            {
                mapping = RepositoryMapping.Parse(options.Path, options.Repository, options.Registry);
            }
            catch (FormatException e)
            {
                throw new InvalidOperationException($"{MappingOptions.Section}:{section.Key}: {e.Message}", e);
            }

            if (!registries.Any(r => r.Id == mapping.RegistryId))
            {
                throw new InvalidOperationException($"{MappingOptions.Section}:{section.Key}: no registry '{mapping.RegistryId}' under {RegistriesSection}");
            }

            if (mappings.Any(m => m.Path == mapping.Path && m.IsPrefix == mapping.IsPrefix))
            {
                throw new InvalidOperationException($"{MappingOptions.Section}:{section.Key}: path '{options.Path}' is mapped twice");
            }

            mappings.Add(mapping);
        }

        return new UpstreamSettings(registries, mappings);
    }

    private static UpstreamRegistry Check(string id, UpstreamOptions options, TimeSpan defaultTimeout)
    {
        var name = id == UpstreamRegistry.DefaultId ? RegistryOptions.Section : $"{RegistriesSection}:{id}";
        if ((options.Url is null) == (options.Layout is null))
        {
            throw new InvalidOperationException($"{name}: set exactly one of Url and Layout");
        }

        if (options.Url is { } url)
        {
            if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https"))
            {
                throw new InvalidOperationException($"{name}:Url must be an absolute http or https URL");
            }

            if (!string.IsNullOrEmpty(url.UserInfo))
            {
                // A URL with credentials would end up in logs and in redirects: they go in Username/Password.
                throw new InvalidOperationException($"{name}:Url must not contain credentials; use {name}:Username and {name}:Password");
            }
        }

        var credential = options.Credential ?? (string.IsNullOrEmpty(options.Username) ? RegistryCredentialKind.None : RegistryCredentialKind.Basic);
        if (options.Layout is not null && credential != RegistryCredentialKind.None)
        {
            throw new InvalidOperationException($"{name}: a Layout takes no credentials");
        }

        if (credential == RegistryCredentialKind.Basic && string.IsNullOrEmpty(options.Username))
        {
            throw new InvalidOperationException($"{name}:Credential is Basic but {name}:Username is not set");
        }

        if (credential != RegistryCredentialKind.Basic && !string.IsNullOrEmpty(options.Username))
        {
            throw new InvalidOperationException($"{name}:Username is set but {name}:Credential is {credential}");
        }

        if (options.Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"{name}:Timeout must be positive");
        }

        return new UpstreamRegistry(id, options.Url, options.Layout, credential, options.Username, options.Password, options.ManagedIdentityClientId, options.Timeout ?? defaultTimeout);
    }
}
