namespace SysextFunctions.Registry;

/// <summary>
/// Limits on one listing (a repository's tags, the registry's repositories, a manifest's referrers), over all its
/// pages: a registry chooses how many pages it sends and what is on them, so what one listing may cost is decided
/// here, not by the registry. A listing over a limit is refused (<see cref="RegistryFailure.InvalidResponse"/>, or
/// <see cref="RegistryFailure.Timeout"/> for the time), never cut silently.
/// </summary>
/// <param name="MaxTags">The most items (tags, repositories, referrers) one listing may have.</param>
/// <param name="MaxBytes">The most bytes of pages one listing may read.</param>
/// <param name="MaxDuration">The longest one listing may take, all pages together.</param>
public sealed record ListingLimits(int MaxTags, long MaxBytes, TimeSpan MaxDuration)
{
    /// <summary>
    /// 100 000 tags, 8 MiB of pages, two minutes: far beyond any sysext repository (a tag list entry is a few dozen
    /// bytes, so 8 MiB holds a quarter of a million), and small enough that one hostile listing stays under 64 MiB
    /// whatever its tags' length (measured: 128-character tags, refused after three pages of 4 MB) and a few at once
    /// within a small server's memory.
    /// </summary>
    public static ListingLimits Default { get; } = new(100_000, 8L * 1024 * 1024, TimeSpan.FromMinutes(2));
}
