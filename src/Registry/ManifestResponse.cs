using SysextFunctions.Registry.Content;
using SysextFunctions.Registry.Oci;

namespace SysextFunctions.Registry;

/// <summary>A manifest with the digest of the exact bytes the registry sent.</summary>
public sealed record ManifestResponse(Digest Digest, Manifest Manifest, int Size)
{
    /// <summary>Manifests (and indexes, and tag lists) larger than this are refused; oras and containerd use the same cap.</summary>
    public const int MaxBytes = 4 * 1024 * 1024;

    internal static ManifestResponse Parse(Digest digest, byte[] bytes, string? contentType, string what) =>
        new(digest, ParseManifest(bytes, contentType, what), bytes.Length);

    /// <summary>
    /// Reads <paramref name="bytes"/>, fetched as <paramref name="what"/>: a manifest (or index) we cannot read is
    /// the source's fault, so it fails as <see cref="RegistryFailure.InvalidResponse"/>, for every source alike.
    /// </summary>
    internal static Manifest ParseManifest(ReadOnlySpan<byte> bytes, string? contentType, string what)
    {
        try
        {
            return Manifest.Parse(bytes, contentType);
        }
        catch (FormatException e)
        {
            throw new RegistryException(RegistryFailure.InvalidResponse, $"{what}: {e.Message}", e);
        }
    }
}
