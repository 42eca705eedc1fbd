using System.Diagnostics;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// The real cosign: 3 (Debian sid) and 2 (Debian trixie), which scripts/install-test-prereqs.sh unpacks and links as
/// tools/cosign/cosign-3 and tools/cosign/cosign-2. A missing binary fails the test. Signing is key-based and never
/// reaches a transparency log or TUF: cosign 3 gets a signing config without services and an empty trusted root,
/// cosign 2 gets <c>--tlog-upload=false</c>.
/// </summary>
internal sealed class CosignKeyPair : IDisposable
{
    public const string Password = "cosign-test-password";

    private readonly TempDirectory _dir = new("sysext-cosign-");

    private CosignKeyPair()
    {
    }

    public string PrivateKey => _dir.Combine("cosign.key");

    public string PublicKey => _dir.Combine("cosign.pub");

    public static string Binary(int version) => Path.Combine(RepoPaths.Tools, "cosign", $"cosign-{version}");

    /// <summary><c>cosign generate-key-pair</c>: an encrypted ECDSA P-256 private key and its PEM public key.</summary>
    public static async Task<CosignKeyPair> GenerateAsync()
    {
        var pair = new CosignKeyPair();
        try
        {
            await pair.RunAsync(3, "generate-key-pair");
            await pair.RunAsync(3, "signing-config", "create", "--out", pair._dir.Combine("nolog.json"));
            await File.WriteAllTextAsync(pair._dir.Combine("trusted-root.json"), """{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}""");
            return pair;
        }
        catch
        {
            pair.Dispose();
            throw;
        }
    }

    /// <summary>Signs <paramref name="digest"/> in <paramref name="repository"/> of the plain-HTTP registry with cosign <paramref name="version"/>.</summary>
    public Task SignAsync(int version, Uri registry, string repository, string digest)
    {
        var reference = $"{registry.Authority}/{repository}@{digest}";
        string[] common = ["sign", "--key", PrivateKey, "--allow-insecure-registry", "--allow-http-registry", "--yes"];
        return version == 3
            ? RunAsync(3, [.. common, "--signing-config", _dir.Combine("nolog.json"), "--trusted-root", _dir.Combine("trusted-root.json"), reference])
            : RunAsync(2, [.. common, "--tlog-upload=false", reference]);
    }

    private async Task RunAsync(int version, params string[] arguments)
    {
        var binary = Binary(version);
        ChildProcess.Require(binary);
        var start = new ProcessStartInfo(binary) { WorkingDirectory = _dir.Path };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["COSIGN_PASSWORD"] = Password;
        // cosign keeps caches under $HOME/.sigstore: a throwaway one, never root's.
        start.Environment["HOME"] = _dir.Path;
        start.Environment.Remove("OTEL_TRACES_EXPORTER");
        var run = await ChildProcess.RunAsync(start, TimeSpan.FromMinutes(2));
        Assert.True(run.ExitCode == 0, $"cosign {version} {string.Join(' ', arguments)}: {run}");
    }

    public void Dispose() => _dir.Dispose();
}
