namespace SysextFunctions.FunctionsHost;

/// <summary>How the emulator runs the worker and where it listens.</summary>
public sealed class EmulatorOptions
{
    /// <summary>
    /// The function app folder: the worker's build or publish output, with <c>host.json</c>,
    /// <c>worker.config.json</c> and <c>functions.metadata</c> (what the host calls the script root).
    /// </summary>
    public required string AppDirectory { get; init; }

    /// <summary>Where the HTTP front listens, as Kestrel URLs; port 0 takes a free one.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:0";

    /// <summary>
    /// App settings, handed to the worker as environment variables as the host does (<c>Registry__Url</c>).
    /// A null value removes a variable inherited from this process.
    /// </summary>
    public IDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>How long the worker may take from its start to its function loaded.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>Forwarded requests that send or receive nothing for this long are dropped (the host's value).</summary>
    public TimeSpan ActivityTimeout { get; init; } = TimeSpan.FromSeconds(240);
}
