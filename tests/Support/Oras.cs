using System.Diagnostics;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// The real <c>oras</c> (Debian's package, unpacked by scripts/install-test-prereqs.sh and linked as tools/oras/oras),
/// pushing the way the README tells users to: <c>oras push --plain-http REGISTRY/REPO:TAG FILE</c>, and multi-platform
/// indexes with <c>oras push --artifact-platform</c> plus <c>oras manifest index create</c>.
/// </summary>
internal sealed class Oras(Uri registry)
{
    public static string Binary => Path.Combine(RepoPaths.Tools, "oras", "oras");

    /// <summary>
    /// <c>oras push</c> of <paramref name="content"/> saved as <paramref name="fileName"/> (the layer's title);
    /// with a null <paramref name="tag"/> the manifest is pushed by digest only. Returns the manifest digest.
    /// </summary>
    public async Task<string> PushAsync(string repository, string? tag, string fileName, byte[] content, string? platform = null)
    {
        using var dir = new TempDirectory("sysext-oras-");
        await File.WriteAllBytesAsync(dir.Combine(fileName), content);
        List<string> arguments = ["push", "--plain-http", "--format", "go-template={{.digest}}"];
        if (platform is not null)
        {
            arguments.AddRange(["--artifact-platform", platform]);
        }

        arguments.AddRange([Reference(repository, tag), fileName]);
        return (await RunAsync(dir.Path, arguments)).Trim();
    }

    /// <summary><c>oras manifest index create REPO:TAG DIGEST...</c>: an image index over pushed manifests.</summary>
    public async Task IndexAsync(string repository, string tag, params string[] manifests)
    {
        using var dir = new TempDirectory("sysext-oras-");
        await RunAsync(dir.Path, ["manifest", "index", "create", "--plain-http", Reference(repository, tag), .. manifests]);
    }

    private string Reference(string repository, string? tag) => $"{registry.Authority}/{repository}" + (tag is null ? "" : $":{tag}");

    private static async Task<string> RunAsync(string workingDirectory, IEnumerable<string> arguments)
    {
        ChildProcess.Require(Binary);
        var start = new ProcessStartInfo(Binary, arguments) { WorkingDirectory = workingDirectory };
        // No credentials of the machine's user: the test registries are anonymous.
        start.Environment["DOCKER_CONFIG"] = workingDirectory;
        var run = await ChildProcess.RunAsync(start, TimeSpan.FromMinutes(1));
        Assert.True(run.ExitCode == 0, $"oras {string.Join(' ', arguments)}: {run}");
        return run.Stdout;
    }
}
