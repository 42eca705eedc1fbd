namespace SysextFunctions.Registry;

/// <summary>
/// How long we wait on one upstream, in each of the ways we wait. Made once per upstream from its configuration
/// and handed to everything that waits on it: the client (<see cref="Response"/>), the resilience pipeline
/// (<see cref="Attempt"/>) and whoever streams its blobs (<see cref="Idle"/>, through <see cref="BlobResponse"/>).
/// </summary>
/// <param name="Response">The wait for response headers, retries and authentication included, and for a whole metadata body.</param>
/// <param name="Attempt">One metadata attempt, before it counts as failed and is retried.</param>
/// <param name="Idle">Silence in the middle of a blob; the blob itself may take as long as it takes.</param>
public sealed record UpstreamTimeouts(TimeSpan Response, TimeSpan Attempt, TimeSpan Idle)
{
    /// <summary>What one configured timeout means: for headers, metadata bodies and silence mid-blob alike.</summary>
    public UpstreamTimeouts(TimeSpan timeout, TimeSpan attempt)
        : this(timeout, attempt, timeout)
    {
    }

    /// <summary>The defaults of <c>Registry:Timeout</c> (30 s) and <c>Registry:Resilience:AttemptTimeout</c> (10 s).</summary>
    public static UpstreamTimeouts Default { get; } = new(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10));
}
