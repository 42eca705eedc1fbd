using System.Runtime.ExceptionServices;

namespace SysextFunctions.Trust;

/// <summary>
/// The keys the settings name (<c>Signing:*</c>, <c>Trust:CosignKeys</c>, <c>Mappings:&lt;n&gt;:CosignKeys</c>), each
/// loaded once per host and disposed with it (a singleton: the container disposes it). The start-up check loads them
/// (their <c>IValidateOptions</c>: a key that cannot be used stops the start with the load's own message) and what
/// signs or verifies gets those same objects. A load is remembered by the values of its settings, not by the options
/// object, because <c>IOptions&lt;T&gt;</c> and the start-up check each make their own; a failed load is remembered too.
/// </summary>
public sealed class LoadedKeys : IDisposable
{
    private readonly Dictionary<object, (IDisposable? Key, ExceptionDispatchInfo? Failure)> _loaded = [];
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <summary>What <paramref name="load"/> makes of <paramref name="settings"/>, made by the first call only.</summary>
    /// <param name="settings">The values the key is made from, compared by value: a tuple of strings.</param>
    /// <exception cref="InvalidOperationException">The key cannot be used (the message names the setting); also
    /// <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> when a key file cannot be read.</exception>
    public T Load<T>(object settings, Func<T> load)
        where T : class?, IDisposable?
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_loaded.TryGetValue(settings, out var loaded))
            {
                try
                {
                    loaded = (load(), null);
                }
                catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
                {
                    loaded = (null, ExceptionDispatchInfo.Capture(e));
                }

                _loaded[settings] = loaded;
            }

            loaded.Failure?.Throw();
            return (T)loaded.Key!;
        }
    }

    /// <summary>The cosign keys of a setting (<see cref="CosignKeySet.Load"/>), loaded once.</summary>
    public CosignKeySet? LoadCosignKeys(IEnumerable<string?>? entries, string setting)
    {
        var values = entries?.ToList() ?? [];
        return Load((setting, string.Join('\0', values)), () => CosignKeySet.Load(values, setting));
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var (key, _) in _loaded.Values)
            {
                key?.Dispose();
            }

            _loaded.Clear();
        }
    }
}
