using Azure.Identity;
using Microsoft.Extensions.Logging;
using SysextFunctions.Registry.Remote.Auth;
using SysextFunctions.Upstreams.Acr;

namespace SysextFunctions.Upstreams;

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
/// One upstream: a registry (<see cref="Url"/>) or an OCI image layout directory (<see cref="Layout"/>). Named
/// options, the name being the upstream's id: the default upstream (<see cref="DefaultId"/>) is the
/// <c>Registry</c> section, the others <c>Registries:&lt;id&gt;</c>. Checked at start by
/// <see cref="UpstreamOptionsValidation"/>. Not a record: its ToString must not print the password.
/// </summary>
public sealed class UpstreamOptions
{
    /// <summary>The id of the default upstream.</summary>
    public const string DefaultId = "";

    public const string DefaultSection = "Registry";

    public const string RegistriesSection = "Registries";

    /// <summary>The default upstream's URL when neither Url nor Layout is set.</summary>
    public static readonly Uri DefaultUrl = new("http://localhost:5000");

    /// <summary>The default of <c>Registry:Timeout</c>, which is every other upstream's default.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public Uri? Url { get; set; }

    /// <summary>A directory holding one OCI image layout per repository (<c>&lt;Layout&gt;/&lt;repository&gt;/index.json</c>).</summary>
    public string? Layout { get; set; }

    public string? Username { get; set; }

    /// <summary>From the environment or a secret store; never from a file the repository tracks.</summary>
    public string? Password { get; set; }

    /// <summary>Basic when <see cref="Username"/> is set, else None, unless set (<see cref="CredentialKind"/>).</summary>
    public RegistryCredentialKind? Credential { get; set; }

    /// <summary>The client ID of a user-assigned managed identity; empty for the system-assigned one.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>
    /// How long to wait for the registry's response headers, for a metadata body, and for the next bytes in the
    /// middle of a blob. For <c>Registries:&lt;id&gt;</c>, defaults to <c>Registry:Timeout</c>.
    /// </summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>A PEM file of CA certificates this registry's TLS certificate may chain to, besides the system's (<see cref="UpstreamTrust"/>).</summary>
    public string? CaCertificateFile { get; set; }

    /// <summary>
    /// Origins (<c>https://auth.example.com</c>, <c>http://127.0.0.1:5001</c>) besides the registry's own where its
    /// token realm may be, whatever they resolve to (a token service on an internal address for a public registry
    /// name). Plain HTTP ones get no password. See <see cref="TokenRealmPolicy"/>.
    /// </summary>
    public List<string> TokenRealms { get; set; } = [];

    /// <summary>How tags are listed: <c>auto</c> (the default), <c>acr</c> or <c>distribution</c> (<see cref="TagListingMode"/>).</summary>
    public string? TagListing { get; set; }

    /// <summary><see cref="TagListing"/> parsed; <see cref="UpstreamOptionsValidation"/> has checked it at start.</summary>
    public TagListingMode TagListingMode => ParseTagListing(TagListing) ?? TagListingMode.Auto;

    /// <summary>The credential in effect: <see cref="Credential"/>, or what <see cref="Username"/> implies.</summary>
    public RegistryCredentialKind CredentialKind =>
        Credential ?? (string.IsNullOrEmpty(Username) ? RegistryCredentialKind.None : RegistryCredentialKind.Basic);

    /// <summary>The configuration section of an upstream, as messages name it.</summary>
    public static string SectionOf(string id) => id == DefaultId ? DefaultSection : $"{RegistriesSection}:{id}";

    /// <summary>The named HttpClient of an upstream.</summary>
    public static string ClientName(string id) => id == DefaultId ? "registry" : $"registry:{id}";

    /// <summary>
    /// The credentials to authenticate with. An Entra ID identity becomes Azure Container Registry's token exchange
    /// (<see cref="AcrTokenProvider"/>), made once per upstream: it and the Azure credential cache tokens.
    /// </summary>
    public RegistryCredentials CreateCredentials(TimeProvider time, ILogger<AcrTokenProvider> logger) => CredentialKind switch
    {
        RegistryCredentialKind.Basic => RegistryCredentials.Basic(Username!, Password ?? ""),
        RegistryCredentialKind.ManagedIdentity => RegistryCredentials.Tokens(new AcrTokenProvider(
            new ManagedIdentityCredential(string.IsNullOrEmpty(ManagedIdentityClientId) ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(ManagedIdentityClientId)),
            time,
            logger)),
        RegistryCredentialKind.DefaultAzure => RegistryCredentials.Tokens(new AcrTokenProvider(CreateDefaultAzureCredential(), time, logger)),
        _ => RegistryCredentials.Anonymous,
    };

    /// <summary><see cref="TokenRealms"/> parsed; validation has checked them at start.</summary>
    public IReadOnlyList<Uri> TokenRealmOrigins => [.. TokenRealms.Select(realm => TryParseOrigin(realm, out var origin) ? origin : throw new FormatException($"not an origin: '{realm}'"))];

    /// <summary>An absolute http or https URL with nothing but scheme, host and an optional port (and an optional <c>/</c>).</summary>
    internal static bool TryParseOrigin(string? value, out Uri origin)
    {
        origin = null!;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
            || !string.IsNullOrEmpty(uri.UserInfo) || uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            return false;
        }

        origin = uri;
        return true;
    }

    /// <summary>A <c>TagListing</c> value: null for none, <see cref="TagListingMode.Auto"/> when empty; throws <see cref="FormatException"/> for anything else than auto, acr or distribution.</summary>
    internal static TagListingMode? ParseTagListing(string? value) =>
        string.IsNullOrEmpty(value) ? null
            : Enum.TryParse<TagListingMode>(value, ignoreCase: true, out var mode) && Enum.IsDefined(mode) && !char.IsDigit(value[0]) ? mode
            : throw new FormatException($"TagListing must be auto, acr or distribution, not '{value}'");

    public override string ToString() => $"{(Layout is not null ? $"layout {Layout}" : Url?.ToString())}, {CredentialKind}";

    private DefaultAzureCredential CreateDefaultAzureCredential()
    {
        var options = new DefaultAzureCredentialOptions();
        if (!string.IsNullOrEmpty(ManagedIdentityClientId))
        {
            options.ManagedIdentityClientId = ManagedIdentityClientId;
        }

        return new DefaultAzureCredential(options);
    }
}
