using System.Collections.Concurrent;

namespace SysextFunctions.Registry.Remote.Auth;

/// <summary>
/// Tokens of one upstream registry, by key (scheme and scope), each until shortly before it expires. Concurrent
/// requests for a missing or expired token wait for one fetch and share its result. Lives as long as the upstream:
/// HttpClientFactory recycles handlers every few minutes, the tokens must outlive them.
/// </summary>
public sealed class TokenCache(TimeProvider time)
{
    /// <summary>Refresh at most this long before expiry; shorter lifetimes refresh a tenth of their life early.</summary>
    public static readonly TimeSpan MaxMargin = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    public TokenCache()
        : this(TimeProvider.System)
    {
    }

    /// <summary>The scheme the registry last challenged with, so later requests carry credentials up front.</summary>
    internal string? Scheme { get; set; }

    /// <summary>A token that is still fresh, or null.</summary>
    public string? Get(string key) =>
        _entries.TryGetValue(key, out var entry) && time.GetUtcNow() < entry.RefreshAt ? entry.Value : null;

    /// <summary>Forgets a token the issuer no longer accepts.</summary>
    public void Remove(string key, string value)
    {
        if (_entries.TryGetValue(key, out var entry) && entry.Value == value)
        {
            _entries.TryRemove(KeyValuePair.Create(key, entry));
        }
    }

    /// <summary>
    /// The fresh token under <paramref name="key"/>, fetching it when there is none or when the cached one is
    /// <paramref name="rejected"/> (the registry refused it).
    /// </summary>
    public async Task<string> GetOrFetchAsync(string key, string? rejected, Func<CancellationToken, Task<(string Value, TimeSpan Lifetime)>> fetch, CancellationToken cancellationToken = default)
    {
        if (Get(key) is { } fresh && fresh != rejected)
        {
            return fresh;
        }

        var gate = _gates.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Whoever held the gate before us may have fetched it already.
            if (Get(key) is { } fetched && fetched != rejected)
            {
                return fetched;
            }

            var (value, lifetime) = await fetch(cancellationToken).ConfigureAwait(false);
            var margin = TimeSpan.FromTicks(Math.Min(MaxMargin.Ticks, lifetime.Ticks / 10));
            _entries[key] = new Entry(value, time.GetUtcNow() + lifetime - margin);
            return value;
        }
        finally
        {
            gate.Release();
        }
    }

    private sealed record Entry(string Value, DateTimeOffset RefreshAt);
}
