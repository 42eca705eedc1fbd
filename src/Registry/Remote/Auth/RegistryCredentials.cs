namespace SysextFunctions.Registry.Remote.Auth;

/// <summary>
/// What a registry client authenticates with: nothing, a username and password (Basic, or Basic to the token
/// realm), or an <see cref="IAccessTokenProvider"/> that answers Bearer challenges its own way (a cloud's token
/// exchange). Not a record on purpose: its <see cref="ToString"/> must never print the secret.
/// </summary>
public sealed class RegistryCredentials
{
    private RegistryCredentials(string? username, string? password, IAccessTokenProvider? accessTokens)
    {
        Username = username;
        Password = password;
        AccessTokens = accessTokens;
    }

    public static RegistryCredentials Anonymous { get; } = new(null, null, null);

    public string? Username { get; }

    internal string? Password { get; }

    /// <summary>Where Bearer tokens come from instead of the challenge's realm, when set.</summary>
    public IAccessTokenProvider? AccessTokens { get; }

    public bool IsAnonymous => Username is null && AccessTokens is null;

    public static RegistryCredentials Basic(string username, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(username);
        ArgumentNullException.ThrowIfNull(password);
        return new RegistryCredentials(username, password, null);
    }

    public static RegistryCredentials Tokens(IAccessTokenProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        return new RegistryCredentials(null, null, provider);
    }

    internal string BasicParameter() =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Username}:{Password}"));

    public override string ToString() =>
        AccessTokens is not null ? $"tokens from {AccessTokens.GetType().Name}" : Username is not null ? $"Basic ({Username})" : "anonymous";
}
