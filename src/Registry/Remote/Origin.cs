namespace SysextFunctions.Registry.Remote;

/// <summary>The URL rules the client and its auth handler share.</summary>
internal static class Origin
{
    /// <summary>
    /// Same scheme, host and port (RFC 6454 §4): credentials, and links that will carry them, stay within one.
    /// </summary>
    public static bool Same(Uri a, Uri b) =>
        Uri.Compare(a, b, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) == 0;

    /// <summary>The URL with a trailing slash, so that relative resolution keeps any path prefix the registry sits under.</summary>
    public static Uri AsBase(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");

    /// <summary><c>scheme://host:port</c> only: what messages name, never a path or query that may hold a secret.</summary>
    public static string Of(Uri uri) => uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped);
}
