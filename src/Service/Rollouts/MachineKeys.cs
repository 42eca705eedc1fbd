using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;

namespace SysextFunctions.Rollouts;

/// <summary>
/// What is left of a machine key once <see cref="MachineKeys"/> has reduced it: HMAC-SHA256 under
/// <c>Rollout:MachineKeySecret</c>. The key itself is never kept, so nothing downstream (logs, traces, metrics,
/// cache keys, pages) can render it; <see cref="ToString"/> gives the first 16 hex digits of the hash, which is
/// what the logs carry.
/// </summary>
public readonly struct MachineHash : IEquatable<MachineHash>
{
    private readonly byte[] _hash;

    internal MachineHash(byte[] hash) => _hash = hash;

    /// <summary>The first 16 hex digits: enough to count distinct machines, too little to find one by brute force on the secret.</summary>
    public string Prefix => Convert.ToHexStringLower(_hash.AsSpan(0, 8));

    /// <summary>
    /// Where this machine falls for one version of one repository: a uniform value in [0,1), the same on every
    /// instance and after every restart, and an independent slice of the fleet for each version (so the same
    /// machines are not always the first to get everything). <c>SHA-256(hash ‖ 0 ‖ repository ‖ 0 ‖ version)</c>,
    /// its first 8 bytes as a big-endian integer over 2^64.
    /// </summary>
    public double Bucket(string repository, string version)
    {
        // One SHA-256 context per thread, reset after each use: OpenSSL 3.0's one-shot calls look the algorithm up
        // again every time, which cost a warm machine-scoped request more than everything else it did.
        var sha = t_sha ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var length = Encoding.UTF8.GetMaxByteCount(repository.Length + version.Length) + 2;
        Span<byte> text = length <= 2048 ? stackalloc byte[length] : new byte[length];
        var written = Encoding.UTF8.GetBytes(repository, text);
        text[written++] = 0;
        written += Encoding.UTF8.GetBytes(version, text[written..]);
        sha.AppendData(_hash);
        sha.AppendData([0]);
        sha.AppendData(text[..written]);
        Span<byte> digest = stackalloc byte[32];
        sha.GetHashAndReset(digest);
        var top = BinaryPrimitives.ReadUInt64BigEndian(digest);
        // 53 bits are all a double holds: dividing those keeps the result strictly below 1.
        return (top >> 11) * (1.0 / (1UL << 53));
    }

    [ThreadStatic]
    private static IncrementalHash? t_sha;

    public bool Equals(MachineHash other) => _hash.AsSpan().SequenceEqual(other._hash);

    public override bool Equals(object? obj) => obj is MachineHash other && Equals(other);

    // Seeded per process (HashCode): with the built-in secret anyone can compute hashes, but not craft collisions.
    public override int GetHashCode() => HashCode.Combine(BinaryPrimitives.ReadInt64LittleEndian(_hash));

    public override string ToString() => Prefix;

    public static bool operator ==(MachineHash left, MachineHash right) => left.Equals(right);

    public static bool operator !=(MachineHash left, MachineHash right) => !left.Equals(right);
}

/// <summary>
/// Reduces machine keys (the <c>&lt;key&gt;</c> of <c>/_m/&lt;key&gt;/…</c>) to <see cref="MachineHash"/>es at once.
/// Keyed, so that a log or metric holding hashes cannot be matched against a list of machine ids without the secret.
/// </summary>
public sealed partial class MachineKeys : IDisposable
{
    /// <summary>
    /// Used when <c>Rollout:MachineKeySecret</c> is unset: buckets still agree between instances, but anyone who reads
    /// this source can test a known machine id against a logged hash. A start-up warning says so.
    /// </summary>
    public const string DefaultSecret = "sysext-functions machine keys: set Rollout:MachineKeySecret";

    /// <summary>What a key may look like: the 32-hex machine id (<c>%m</c>) or any opaque token of 16–64 such characters.</summary>
    public const string KeyRule = "16 to 64 characters of A-Z a-z 0-9 _ -";

    private readonly byte[] _secret;

    /// <summary>
    /// One keyed HMAC per thread, reset after each use to the state right after the key: managed (BouncyCastle),
    /// because every request takes one and OpenSSL 3.0 costs more to call than the two blocks of SHA-256 do.
    /// </summary>
    private readonly ThreadLocal<HMac> _hmac;

    public MachineKeys(string? secret = null)
    {
        IsDefaultSecret = string.IsNullOrEmpty(secret);
        _secret = Encoding.UTF8.GetBytes(IsDefaultSecret ? DefaultSecret : secret!);
        _hmac = new ThreadLocal<HMac>(() =>
        {
            var hmac = new HMac(new Sha256Digest());
            hmac.Init(new KeyParameter(_secret));
            return hmac;
        });
    }

    public static MachineKeys Default { get; } = new();

    /// <summary>Lets go of the per-thread HMACs (the host's instance is disposed with the host).</summary>
    public void Dispose() => _hmac.Dispose();

    public bool IsDefaultSecret { get; }

    /// <summary>The hash of a well-formed key, or null; the key is neither kept nor echoed.</summary>
    public MachineHash? TryHash(ReadOnlySpan<char> key)
    {
        if (!KeyPattern().IsMatch(key))
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[64];
        var length = Encoding.ASCII.GetBytes(key, bytes);
        var hmac = _hmac.Value!;
        hmac.BlockUpdate(bytes[..length]);
        var hash = new byte[HMACSHA256.HashSizeInBytes];
        hmac.DoFinal(hash);
        bytes.Clear();
        return new MachineHash(hash);
    }

    // \A…\z: in .NET, $ also matches before a final newline.
    [GeneratedRegex(@"\A[A-Za-z0-9_-]{16,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();
}
