using System.Buffers.Binary;
using System.Diagnostics;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// Debian's <c>chromium</c> (installed by scripts/install-test-prereqs.sh), headless, with a fresh profile and
/// nothing that reaches the network by itself. A missing binary fails the test.
/// </summary>
internal static class Chromium
{
    public const string Binary = "/usr/bin/chromium";

    /// <summary>A screenshot of <paramref name="url"/> at a phone's width, and its PNG dimensions.</summary>
    public static async Task<(byte[] Png, int Width, int Height)> ScreenshotAsync(Uri url, int width = 412, int height = 900)
    {
        using var dir = new TempDirectory("sysext-chromium-");
        var file = dir.Combine("page.png");
        var run = await RunAsync(dir, $"--screenshot={file}", $"--window-size={width},{height}", url.AbsoluteUri);
        Assert.True(File.Exists(file), $"no screenshot written\n{run}");
        var png = await File.ReadAllBytesAsync(file);
        // PNG: the 8-byte signature, then the IHDR chunk with width and height (RFC 2083 §4.1.1).
        Assert.True(png.Length > 24 && png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }) && png.AsSpan(12, 4).SequenceEqual("IHDR"u8),
            "the screenshot is no PNG");
        return (png, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    /// <summary>The DOM after the page loaded and anything it was allowed to run ran.</summary>
    public static async Task<string> DumpDomAsync(Uri url)
    {
        using var dir = new TempDirectory("sysext-chromium-");
        var run = await RunAsync(dir, "--dump-dom", url.AbsoluteUri);
        Assert.True(run.ExitCode == 0 && run.Stdout.Length > 0, run.ToString());
        return run.Stdout;
    }

    private static async Task<ProcessRun> RunAsync(TempDirectory dir, params string[] arguments)
    {
        ChildProcess.Require(Binary);
        var start = new ProcessStartInfo(Binary) { WorkingDirectory = dir.Path };
        foreach (var argument in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={dir.CreateDirectory("profile")}", .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        return await ChildProcess.RunAsync(start, TimeSpan.FromMinutes(2));
    }
}
