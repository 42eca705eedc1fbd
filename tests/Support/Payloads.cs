using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace SysextFunctions.Tests.Support;

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
        {
            gzip.Write(Tar(files));
        }

        return output.ToArray();
    }

    /// <summary>An uncompressed tar holding the given files.</summary>
    public static byte[] Tar(params (string Path, string Content)[] files)
    {
        using var output = new MemoryStream();
        using (var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
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

    /// <summary>Compresses with the real <c>xz</c> or <c>zstd</c> command (what people build sysexts with).</summary>
    public static Task<byte[]> CompressAsync(string tool, byte[] content) => RunFilterAsync(tool, ["-c", "-q"], content);

    /// <summary>Decompresses with the real <c>xz</c> or <c>zstd</c> command.</summary>
    public static Task<byte[]> DecompressAsync(string tool, byte[] content) => RunFilterAsync(tool, ["-d", "-c", "-q"], content);

    private static async Task<byte[]> RunFilterAsync(string tool, string[] arguments, byte[] content)
    {
        var path = $"/usr/bin/{tool}";
        ChildProcess.Require(path);

        var run = await ChildProcess.RunAsync(new System.Diagnostics.ProcessStartInfo(path, arguments), TimeSpan.FromMinutes(1), content);
        Assert.True(run.ExitCode == 0, $"{tool}: {run.Stderr}");
        return run.StdoutBytes;
    }
}
