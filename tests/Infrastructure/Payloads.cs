using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace SysextFunctions.Tests.Infrastructure;

/// <summary>Sysext-shaped payloads made on the spot.</summary>
internal static class Payloads
{
    /// <summary>Deterministic pseudo-random bytes, standing in for a disk image.</summary>
    public static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A gzip-compressed tar holding the given files, as a container layer is.</summary>
    public static byte[] TarGz(params (string Path, string Content)[] files)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (path, content) in files)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, path)
                {
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                };
                tar.WriteEntry(entry);
            }
        }

        return output.ToArray();
    }
}
