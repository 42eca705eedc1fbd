using System.Diagnostics;

namespace SysextFunctions.Tests.Infrastructure;

/// <summary>
/// A throwaway OpenPGP key made by the real gpg in its own GNUPGHOME (the user's keyrings are never touched), and
/// verification the way systemd-pull does it: <c>gpg --no-default-keyring --keyring=… --verify SIG -</c>.
/// </summary>
internal sealed class GpgKey : IDisposable
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
        await File.WriteAllBytesAsync(key.KeyringPath, (await key.GpgAsync(["--export"])).Stdout);
        return key;
    }

    public async Task<byte[]> ExportSecretAsync(bool armor) =>
        (await GpgAsync(armor ? ["--armor", "--export-secret-keys"] : ["--export-secret-keys"])).Stdout;

    /// <summary>Verifies a detached signature exactly as systemd-pull does (gpg, trust-model always, our keyring only).</summary>
    public static async Task<GpgRun> VerifyAsync(string keyring, byte[] signature, byte[] content)
    {
        using var dir = new TempDirectory("sysext-gpgv-");
        var sig = dir.Combine("sig");
        await File.WriteAllBytesAsync(sig, signature);
        return await RunAsync(
            ["--no-options", "--no-default-keyring", "--no-auto-key-locate", "--no-auto-check-trustdb", "--batch", "--trust-model=always",
             $"--homedir={dir.Path}", $"--keyring={keyring}", "--verify", sig, "-"],
            content);
    }

    public void Dispose()
    {
        // gpg starts an agent per home directory; stop ours.
        using (var kill = Process.Start(new ProcessStartInfo("gpgconf", ["--homedir", _home.Path, "--kill", "all"]) { UseShellExecute = false }))
        {
            kill?.WaitForExit(10_000);
        }

        _home.Dispose();
    }

    private async Task<GpgRun> GpgAsync(string[] arguments)
    {
        var run = await RunAsync(["--homedir", _home.Path, "--batch", "--pinentry-mode", "loopback", "--passphrase", Passphrase ?? "", .. arguments], null);
        Assert.True(run.ExitCode == 0, $"gpg {string.Join(' ', arguments)}: {run.Stderr}");
        return run;
    }

    private static async Task<GpgRun> RunAsync(string[] arguments, byte[]? stdin)
    {
        var start = new ProcessStartInfo(Binary, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        await copy;
        return new GpgRun(process.ExitCode, stdout.ToArray(), await stderr);
    }
}

internal sealed record GpgRun(int ExitCode, byte[] Stdout, string Stderr);
