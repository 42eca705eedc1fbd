using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace SysextFunctions.Registry.Content;

/// <summary>
/// A content digest, <c>algorithm:encoded</c>. Only sha256 is usable for sysupdate, whose SHA256SUMS carries
/// the hex of exactly that hash. https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests
/// </summary>
public readonly partial record struct Digest(string Algorithm, string Encoded)
{
    public bool IsSha256 => Algorithm == "sha256";

    public override string ToString() => $"{Algorithm}:{Encoded}";

    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest)
    {
        digest = default;
        if (value is null)
        {
            return false;
        }

        var match = DigestPattern().Match(value);
        if (!match.Success)
        {
            return false;
        }

        digest = new Digest(match.Groups["alg"].Value, match.Groups["enc"].Value);
        // sha256 is the only algorithm whose length we can check; it must be lowercase hex.
        return digest.Algorithm != "sha256" || Sha256Hex().IsMatch(digest.Encoded);
    }

    public static Digest Parse(string value) =>
        TryParse(value, out var digest) ? digest : throw new FormatException($"invalid digest '{value}'");

    public static Digest Sha256(ReadOnlySpan<byte> hash) => new("sha256", Convert.ToHexStringLower(hash));

    [GeneratedRegex(@"\A(?<alg>[a-z0-9]+(?:[.+_-][a-z0-9]+)*):(?<enc>[a-zA-Z0-9=_-]+)\z", RegexOptions.CultureInvariant)]
    private static partial Regex DigestPattern();

    [GeneratedRegex(@"\A[a-f0-9]{64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Hex();
}
