using Microsoft.Extensions.Internal;

namespace SysextFunctions.Registry.Remote;

/// <summary>MemoryCache's clock (it predates <see cref="TimeProvider"/>), so that its expiry follows ours.</summary>
public sealed class MemoryCacheClock(TimeProvider time) : ISystemClock
{
    public DateTimeOffset UtcNow => time.GetUtcNow();
}
