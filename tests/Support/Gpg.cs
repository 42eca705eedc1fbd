using System.Diagnostics;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// A throwaway OpenPGP key made by the real gpg in its own GNUPGHOME (the user's keyrings are never touched), and
/// verification the way systemd-pull does it: <c>gpg --no-default-keyring --keyring=… --verify SIG -</c>.
/// </summary>
internal sealed class GpgKey : IAsyncDisposable
{
    public const string Binary = "/usr/bin/gpg";

    private readonly TempDirectory _home;

    private GpgKey(TempDirectory home, string? passphrase)
    {
        _home = home;
        Passphrase = passphrase;
    }

    public string? Passphrase { get; }

    /// <summary>The public key, exported binary: a keyring file as <c>/etc/systemd/import-pubring.gpg</c> is.</summary>
    public string KeyringPath => _home.Combine("pubring-export.gpg");

    /// <param name="algorithm">As <c>gpg --quick-gen-key</c> takes it: rsa2048, ed25519, …</param>
    public static async Task<GpgKey> CreateAsync(string algorithm = "rsa2048", string? passphrase = null)
    {
        ChildProcess.Require(Binary);

        var home = new TempDirectory("sysext-gpg-");
        var key = new GpgKey(home, passphrase);
        await key.GpgAsync(["--quick-gen-key", $"Sysext Test {algorithm} <sysext-test@example.invalid>", algorithm, "sign", "never"]);
        await File.WriteAllBytesAsync(key.KeyringPath, (await key.GpgAsync(["--export"])).StdoutBytes);
        return key;
    }

    public async Task<byte[]> ExportSecretAsync(bool armor) =>
        (await GpgAsync(armor ? ["--armor", "--export-secret-keys"] : ["--export-secret-keys"])).StdoutBytes;

    /// <summary>Verifies a detached signature exactly as systemd-pull does (gpg, trust-model always, our keyring only).</summary>
    public static async Task<ProcessRun> VerifyAsync(string keyring, byte[] signature, byte[] content)
    {
        using var dir = new TempDirectory("sysext-gpgv-");
        var sig = dir.Combine("sig");
        await File.WriteAllBytesAsync(sig, signature);
        return await RunAsync(
            ["--no-options", "--no-default-keyring", "--no-auto-key-locate", "--no-auto-check-trustdb", "--batch", "--trust-model=always",
             $"--homedir={dir.Path}", $"--keyring={keyring}", "--verify", sig, "-"],
            content);
    }

    public async ValueTask DisposeAsync()
    {
        // gpg starts an agent per home directory; stop ours.
        await ChildProcess.RunAsync(new ProcessStartInfo("gpgconf", ["--homedir", _home.Path, "--kill", "all"]), TimeSpan.FromSeconds(10));

        _home.Dispose();
    }

    private async Task<ProcessRun> GpgAsync(string[] arguments)
    {
        var run = await RunAsync(["--homedir", _home.Path, "--batch", "--pinentry-mode", "loopback", "--passphrase", Passphrase ?? "", .. arguments], null);
        Assert.True(run.ExitCode == 0, $"gpg {string.Join(' ', arguments)}: {run.Stderr}");
        return run;
    }

    private static Task<ProcessRun> RunAsync(string[] arguments, byte[]? stdin) =>
        ChildProcess.RunAsync(new ProcessStartInfo(Binary, arguments), TimeSpan.FromMinutes(1), stdin);
}

