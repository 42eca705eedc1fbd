using System.ComponentModel;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// What one listing of a repository produced: its files and the exact SHA256SUMS bytes served for them, with
/// their ETag and detached signature. Everything served about a listing (the list, its ETag, its signature) comes
/// from one snapshot, so whatever keeps snapshots can never pair a list with another list's signature. Never
/// changed once made: that is what lets HybridCache hand out the same instance to every request instead of a copy
/// (<see cref="ImmutableObjectAttribute"/>).
/// </summary>
/// <param name="Signature">The binary OpenPGP detached signature of <paramref name="Checksums"/>, or null when nothing is signed.</param>
[ImmutableObject(true)]
public sealed record RepositorySnapshot(IReadOnlyList<SysextFile> Files, byte[] Checksums, string ETag, byte[]? Signature = null)
{
    /// <summary>When the listing began: what it says is at most this old, which is what HTTP caching counts from.</summary>
    public DateTimeOffset ListedAt { get; init; }

    /// <summary>The rollout policy the listing found (read only where a schedule applies).</summary>
    public PolicyRead Policy { get; init; } = PolicyRead.None;

    public static RepositorySnapshot Create(IReadOnlyList<SysextFile> files, ChecksumsSigner signer, DateTimeOffset listedAt)
    {
        // The marker is part of the signed bytes, so of the ETag too: both change when its date does.
        var body = Sysupdate.Checksums.Render(files, signer.BestBeforeDate(listedAt));
        return new RepositorySnapshot(files, body, $"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body))}\"", signer.Sign(body))
        {
            ListedAt = listedAt,
        };
    }
}
