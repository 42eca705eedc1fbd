using Azure.Core;

namespace SysextFunctions.Registry.Remote.Auth;

/// <summary>
/// What a registry client authenticates with: nothing, a username and password (Basic, or Basic to the token
/// realm), or an Entra ID <see cref="TokenCredential"/> exchanged for Azure Container Registry tokens.
/// Not a record on purpose: its <see cref="ToString"/> must never print the secret.
/// </summary>
public sealed class RegistryCredentials
{
    private RegistryCredentials(string? username, string? password, TokenCredential? tokenCredential)
    {
        Username = username;
        Password = password;
        TokenCredential = tokenCredential;
    }

    public static RegistryCredentials Anonymous { get; } = new(null, null, null);

    public string? Username { get; }

    internal string? Password { get; }

    public TokenCredential? TokenCredential { get; }

    public bool IsAnonymous => Username is null && TokenCredential is null;

    public static RegistryCredentials Basic(string username, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(username);
        ArgumentNullException.ThrowIfNull(password);
        return new RegistryCredentials(username, password, null);
    }

    public static RegistryCredentials Entra(TokenCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return new RegistryCredentials(null, null, credential);
    }

    internal string BasicParameter() =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Username}:{Password}"));

    public override string ToString() =>
        TokenCredential is not null ? $"Entra ID ({TokenCredential.GetType().Name})" : Username is not null ? $"Basic ({Username})" : "anonymous";
}
