namespace SysextFunctions.Trust;

/// <summary>Whether a manifest digest carries a valid signature by a configured key, and how or why not.</summary>
public readonly record struct TrustVerdict(bool Verified, string Reason)
{
    public static TrustVerdict Valid(string how) => new(true, how);

    public static TrustVerdict Invalid(string reason) => new(false, reason);
}
