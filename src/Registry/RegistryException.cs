namespace SysextFunctions.Registry;

/// <summary>Why a registry request failed, in the terms the HTTP edge maps to a status once.</summary>
public enum RegistryFailure
{
    /// <summary>The repository, tag, manifest or blob does not exist (the registry said 404).</summary>
    NotFound,

    /// <summary>The registry could not be reached, refused us, or answered with a server error.</summary>
    Unavailable,

    /// <summary>The registry did not answer in time.</summary>
    Timeout,

    /// <summary>The registry answered, but with something we cannot use (malformed, oversized, wrong digest).</summary>
    InvalidResponse,

    /// <summary>The registry denied access (401/403 after any authentication we could do).</summary>
    Denied,

    /// <summary>The registry asked us to slow down (429).</summary>
    Throttled,
}

/// <summary>A failed registry request. The message is safe to show to clients: it never holds credentials.</summary>
public sealed class RegistryException(RegistryFailure failure, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    public RegistryFailure Failure { get; } = failure;

    /// <summary>The OCI error code from the registry's body, when it sent one (e.g. NAME_UNKNOWN).</summary>
    public string? Code { get; init; }

    /// <summary>The delay a throttling registry asked for, when it said.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
