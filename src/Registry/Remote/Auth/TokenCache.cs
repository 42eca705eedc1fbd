using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;

namespace SysextFunctions.Registry.Remote.Auth;

/// <summary>
/// Tokens of one upstream registry, by key (scheme and scope), each until shortly before it expires. Concurrent
/// requests for a missing or expired token wait for one fetch and share its result. Lives as long as the upstream:
/// HttpClientFactory recycles handlers every few minutes, the tokens must outlive them.
/// </summary>
/// <remarks>
/// The keys are chosen by clients (a scope names the repository a client asked for, known or not) and by the
/// registry (the scope and service of its challenges), so the cache is bounded: at most
/// <see cref="DefaultSizeLimit"/> bytes of tokens and keys, the least recently used going first, each entry gone
/// when it expires. A fetch in flight is held only while it runs. A fetch the registry refused (Denied) or
/// answered with nonsense (InvalidResponse) is remembered for <see cref="FailureLifetime"/>, so that a burst of
/// requests for a name nobody may read costs one token request; outages are not remembered, the resilience
/// pipeline retries them.
/// </remarks>
public sealed class TokenCache : IDisposable
{
    /// <summary>Refresh at most this long before expiry; shorter lifetimes refresh a tenth of their life early.</summary>
    public static readonly TimeSpan MaxMargin = TimeSpan.FromSeconds(30);

    /// <summary>How long a refused token fetch is answered from memory.</summary>
    public static readonly TimeSpan FailureLifetime = TimeSpan.FromSeconds(10);

    /// <summary>About 4 MiB: a thousand or more typical tokens (1–3 KiB JWTs) per upstream.</summary>
    public const long DefaultSizeLimit = 4 * 1024 * 1024;

    // What an entry costs beyond its strings (the entry, its options, the record), roughly.
    private const int EntryOverhead = 256;

    private readonly TimeProvider _time;
    private readonly MemoryCache _entries;
    private readonly ConcurrentDictionary<string, Task<string>> _fetches = new(StringComparer.Ordinal);

    /// <param name="time">The clock expiry is measured by.</param>
    /// <param name="sizeLimit">Bytes of tokens and keys kept at most (UTF-16, plus a fixed overhead per entry).</param>
    public TokenCache(TimeProvider time, long sizeLimit = DefaultSizeLimit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sizeLimit, 1);
        _time = time;
        _entries = new MemoryCache(new MemoryCacheOptions { SizeLimit = sizeLimit, Clock = new MemoryCacheClock(time) });
    }

    /// <summary>The scheme the registry last challenged with, so later requests carry credentials up front.</summary>
    internal string? Scheme { get; set; }

    /// <summary>How many tokens and remembered failures are held now.</summary>
    public int Count => _entries.Count;

    /// <summary>A token that is still fresh, or null.</summary>
    public string? Get(string key) =>
        _entries.TryGetValue(key, out Entry? entry) && entry!.Value is { } value && _time.GetUtcNow() < entry.RefreshAt ? value : null;

    /// <summary>Forgets a token the issuer no longer accepts.</summary>
    public void Remove(string key, string value)
    {
        if (_entries.TryGetValue(key, out Entry? entry) && entry!.Value == value)
        {
            _entries.Remove(key);
        }
    }

    /// <summary>
    /// The fresh token under <paramref name="key"/>, fetching it when there is none or when the cached one is
    /// <paramref name="rejected"/> (the registry refused it). Callers asking for the same key while a fetch runs
    /// share it.
    /// </summary>
    public async Task<string> GetOrFetchAsync(string key, string? rejected, Func<CancellationToken, Task<(string Value, TimeSpan Lifetime)>> fetch, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_entries.TryGetValue(key, out Entry? entry) && _time.GetUtcNow() < entry!.RefreshAt)
            {
                if (entry.Failure is { } failure)
                {
                    throw new RegistryException(failure.Failure, failure.Message) { Code = failure.Code };
                }

                if (entry.Value != rejected)
                {
                    return entry.Value!;
                }
            }

            var mine = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var running = _fetches.GetOrAdd(key, mine.Task);
            if (running != mine.Task)
            {
                try
                {
                    var shared = await running.WaitAsync(cancellationToken).ConfigureAwait(false);
                    if (shared != rejected)
                    {
                        return shared;
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The caller that ran the fetch went away and took it with it; we have not: try again.
                }

                continue;
            }

            string value;
            try
            {
                TimeSpan lifetime;
                (value, lifetime) = await fetch(cancellationToken).ConfigureAwait(false);
                var margin = TimeSpan.FromTicks(Math.Min(MaxMargin.Ticks, lifetime.Ticks / 10));
                Set(key, new Entry(value, null, _time.GetUtcNow() + lifetime - margin));
            }
            catch (Exception e)
            {
                if (e is RegistryException { Failure: RegistryFailure.Denied or RegistryFailure.InvalidResponse } refused)
                {
                    Set(key, new Entry(null, refused, _time.GetUtcNow() + FailureLifetime));
                }

                // Gone from the in-flight table before anyone hears of the outcome, so no waiter finds it again.
                _fetches.TryRemove(KeyValuePair.Create(key, mine.Task));
                if (e is OperationCanceledException canceled)
                {
                    mine.SetCanceled(canceled.CancellationToken);
                }
                else
                {
                    mine.SetException(e);
                    // Nobody may be waiting: an unobserved failure is no error here.
                    _ = mine.Task.Exception;
                }

                throw;
            }

            _fetches.TryRemove(KeyValuePair.Create(key, mine.Task));
            mine.SetResult(value);
            return value;
        }
    }

    public void Dispose() => _entries.Dispose();

    private void Set(string key, Entry entry)
    {
        if (entry.RefreshAt <= _time.GetUtcNow())
        {
            return;
        }

        _entries.Set(key, entry, new MemoryCacheEntryOptions
        {
            AbsoluteExpiration = entry.RefreshAt,
            Size = 2L * (key.Length + (entry.Value?.Length ?? entry.Failure!.Message.Length)) + EntryOverhead,
        });
    }

    private sealed record Entry(string? Value, RegistryException? Failure, DateTimeOffset RefreshAt);
}
