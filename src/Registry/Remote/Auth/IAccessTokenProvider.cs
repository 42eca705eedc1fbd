namespace SysextFunctions.Registry.Remote.Auth;

/// <summary>
/// Answers a registry's Bearer challenge its own way instead of the distribution token flow: a cloud's token
/// exchange (Azure Container Registry's, with an Entra ID identity, lives with the Azure upstream code). As ORAS .NET
/// keeps cloud authentication behind its credential and access-token providers, the generic client knows only this.
/// The <see cref="RegistryAuthHandler"/> caches what it returns per scope in its <see cref="TokenCache"/>.
/// </summary>
public interface IAccessTokenProvider
{
    /// <summary>A token for <see cref="AccessTokenRequest.Scope"/>, and how long to use it.</summary>
    /// <exception cref="RegistryException">Denied when no token can be had; other failures as the endpoint answered.</exception>
    Task<RegistryToken> GetTokenAsync(AccessTokenRequest request, CancellationToken cancellationToken = default);
}

/// <summary>What a Bearer challenge asked for, and the way to the registry's token endpoints.</summary>
/// <param name="Registry">The registry's base URL.</param>
/// <param name="Service">The challenge's <c>service</c>, or the registry's host when it named none.</param>
/// <param name="Scope">The challenge's <c>scope</c> (or the request path's), null for registry-wide requests.</param>
/// <param name="Endpoint">Sends token requests straight to the transport (past the auth handler) and checks their answers.</param>
public sealed record AccessTokenRequest(Uri Registry, string Service, string? Scope, TokenEndpoint Endpoint);

/// <summary>A bearer token and how long to use it.</summary>
public readonly record struct RegistryToken(string Value, TimeSpan Lifetime);
