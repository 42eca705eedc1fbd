using Microsoft.Extensions.Options;

namespace SysextFunctions.Hosting;

/// <summary>
/// Kestrel's connection limits for the standalone host (<c>Kestrel:Limits</c>, Kestrel's own names), with defaults
/// that bound memory: each open connection costs a little, a slow reader of a streamed file about what
/// <see cref="Http.BlobStreamResult"/> and <see cref="MaxResponseBufferSize"/> hold for it. Under Azure Functions the
/// platform's front end limits connections instead.
/// </summary>
public sealed class ServerLimitsOptions
{
    public const string Section = "Kestrel:Limits";

    /// <summary>Open connections at most; one more is refused until one closes. Kestrel's own default is no limit.</summary>
    public long MaxConcurrentConnections { get; set; } = 2000;

    /// <summary>Response bytes Kestrel buffers per connection before a write waits for the client to read (Kestrel's default).</summary>
    public long MaxResponseBufferSize { get; set; } = 64 * 1024;

    /// <summary>How long an idle keep-alive connection is kept (Kestrel's default).</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(130);
}

public sealed class ServerLimitsOptionsValidation : IValidateOptions<ServerLimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, ServerLimitsOptions options) =>
        options.MaxConcurrentConnections <= 0 ? Fail("MaxConcurrentConnections must be positive")
        : options.MaxResponseBufferSize < 4096 ? Fail("MaxResponseBufferSize must be at least 4096")
        : options.KeepAliveTimeout <= TimeSpan.Zero ? Fail("KeepAliveTimeout must be positive")
        : ValidateOptionsResult.Success;

    private static ValidateOptionsResult Fail(string reason) => ValidateOptionsResult.Fail($"{ServerLimitsOptions.Section}:{reason}");
}
