using System.ComponentModel;

namespace SysextFunctions.Sysupdate;

/// <summary>
/// What one listing of a repository produced: its files and the exact SHA256SUMS bytes served for them, with
/// their ETag. Everything served about a listing (the list, its ETag, later its signature) comes from one
/// snapshot, so they can never disagree. Never changed once made: that is what lets HybridCache hand out the
/// same instance to every request instead of a copy (<see cref="ImmutableObjectAttribute"/>).
/// </summary>
[ImmutableObject(true)]
public sealed record RepositorySnapshot(IReadOnlyList<SysextFile> Files, byte[] Checksums, string ETag)
{
    public static RepositorySnapshot Create(IReadOnlyList<SysextFile> files)
    {
        var body = Sysupdate.Checksums.Render(files);
        return new RepositorySnapshot(files, body, $"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body))}\"");
    }
}
