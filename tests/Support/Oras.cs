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
    /// with a null <paramref name="tag"/> the manifest is pushed by digest only; <paramref name="mediaType"/> is the
    /// layer's, given as <c>FILE:TYPE</c>. Returns the manifest digest.
    /// </summary>
    /// <param name="created">
    /// The manifest's <c>org.opencontainers.image.created</c> (<c>--annotation</c>); without it, oras stamps the push
    /// time. A phased rollout measures its steps from this date (docs/rollouts.md).
    /// </param>
    /// <param name="mediaType">The layer's media type (<c>FILE:TYPE</c>), as a rollout policy is pushed.</param>
    public async Task<string> PushAsync(string repository, string? tag, string fileName, byte[] content, string? platform = null, DateTimeOffset? created = null, string? mediaType = null)
    {
        using var dir = new TempDirectory("sysext-oras-");
        await File.WriteAllBytesAsync(dir.Combine(fileName), content);
        List<string> arguments = ["push", "--plain-http", "--format", "go-template={{.digest}}"];
        if (platform is not null)
        {
            arguments.AddRange(["--artifact-platform", platform]);
        }

        if (created is { } date)
        {
            arguments.AddRange(["--annotation", $"org.opencontainers.image.created={date.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}"]);
        }

        arguments.AddRange([Reference(repository, tag), mediaType is null ? fileName : $"{fileName}:{mediaType}"]);
        return (await RunAsync(dir.Path, arguments)).Trim();
    }

    /// <summary>
    /// A rollout policy, as docs/rollouts.md tells operators to push it: <c>oras push REPO:_rollout
    /// rollout.json:application/vnd.sysext-functions.rollout.v1+json</c>.
    /// </summary>
    public Task<string> PushRolloutPolicyAsync(string repository, string json) =>
        PushAsync(repository, "_rollout", "rollout.json", System.Text.Encoding.UTF8.GetBytes(json), mediaType: "application/vnd.sysext-functions.rollout.v1+json");

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
