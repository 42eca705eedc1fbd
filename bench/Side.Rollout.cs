using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Bench;

/// <summary>
/// (M) Machine-scoped lists of a phased rollout (docs/rollouts.md): what a fleet costs the server compared with
/// anonymous clients. One repository with one version fully rolled out and four at 50 %, so a machine gets one of
/// at most 16 lists; a signing key, so each list has a detached signature.
/// </summary>
internal sealed partial class Side
{
    private const string RolloutRepository = "bench/rollout";
    private const int WarmMachines = 1_000;
    private const int DistinctMachines = 10_000;
    private const int PhasedVersions = 4;

    private async Task RolloutAsync(RegistryServer registry)
    {
        var oras = new Oras(registry.Url);
        await oras.PushAsync(RolloutRepository, "v1", "hello-v1.raw", Encoding.ASCII.GetBytes("v1\n"), created: new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
        for (var v = 2; v <= PhasedVersions + 1; v++)
        {
            await oras.PushAsync(RolloutRepository, $"v{v}", $"hello-v{v}.raw", Encoding.ASCII.GetBytes($"v{v}\n"));
        }

        // ECDSA signatures are randomised: two signing operations of one list never give the same bytes, so the number
        // of distinct signatures the fleet receives is the number of signing operations (checked below, not assumed).
        await using var key = await GpgKey.CreateAsync("nistp256");
        using var keys = new TempDirectory("sysext-bench-key-");
        var keyFile = keys.Combine("signing.asc");
        var secret = await key.ExportSecretAsync(armor: true);
        await File.WriteAllBytesAsync(keyFile, secret);
        var signer = ChecksumsSigner.Load(secret, passphrase: null);
        var probe = Encoding.ASCII.GetBytes("one list\n");
        if (signer.Sign(probe)!.AsSpan().SequenceEqual(signer.Sign(probe)))
        {
            throw new InvalidOperationException("two ECDSA signatures of one list are the same bytes: distinct signatures would not count signing operations");
        }

        await using var proxy = await Proxy.StartAsync(registry.Url, "00:10:00",
            "--Rollout:Steps=50%@0m,100%@365d", "--Rollout:MachineKeySecret=bench", $"--Signing:KeyFile={keyFile}");
        var warmKeys = Fleet.MachineIds(WarmMachines, seed: 1);
        var anonymous = $"/{RolloutRepository}/SHA256SUMS";
        string[] machinePaths = [.. warmKeys.Select(k => $"/_m/{k}/{RolloutRepository}/SHA256SUMS")];

        Step($"(M) machine-scoped SHA256SUMS ({PhasedVersions} versions at 50 %, signed): warm per-machine lists of {WarmMachines} machines vs the anonymous list, {Clients} clients for {_loadSeconds} s with {Load.Tool}, 3 rounds each");
        using (var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16 }))
        {
            // Warm: every machine's list made (and signed) once, and the JIT through both paths.
            await Parallel.ForEachAsync([anonymous, .. machinePaths], new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (path, ct) =>
                (await http.GetAsync(new Uri(proxy.Url, path), ct)).EnsureSuccessStatusCode());
        }

        // Requests per second, and per CPU second of the proxy: on a machine shared with other work (a load average
        // many times the cores) the wall-clock rate of two runs differs by more than the two paths do, while the
        // proxy's CPU per request (its capacity, requests per second per core) holds still.
        var anonymousRuns = new List<(double Rps, double PerCpu)>();
        var machineRuns = new List<(double Rps, double PerCpu)>();
        for (var round = 0; round < 3; round++)
        {
            anonymousRuns.Add(await MeasuredLoadAsync(proxy, [anonymous]));
            machineRuns.Add(await MeasuredLoadAsync(proxy, machinePaths));
        }

        var (machineRps, anonymousRps) = (Median([.. machineRuns.Select(r => r.Rps)]), Median([.. anonymousRuns.Select(r => r.Rps)]));
        var (machinePerCpu, anonymousPerCpu) = (Median([.. machineRuns.Select(r => r.PerCpu)]), Median([.. anonymousRuns.Select(r => r.PerCpu)]));
        Add("M1", $"warm per-machine SHA256SUMS, {WarmMachines} machines, {Clients} clients", $"{machineRps:F0} req/s", $"{anonymousRps:F0} req/s (anonymous)", machineRps / anonymousRps, null);
        Add("M1c", "  the same per proxy CPU second (capacity)", $"{machinePerCpu:F0} req/cpu-s", $"{anonymousPerCpu:F0} req/cpu-s (anonymous)", machinePerCpu / anonymousPerCpu, 0.8);

        Step($"    {DistinctMachines:N0} machines never seen before, each asking for its SHA256SUMS and SHA256SUMS.gpg once (16 at a time): the proxy's RSS, and its signing operations against the distinct lists");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var rssBefore = proxy.Process.RssBytes();
        var lists = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);
        var signatures = new ConcurrentDictionary<string, (string List, byte[] Signature)>(StringComparer.Ordinal);
        var watch = Stopwatch.StartNew();
        using (var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16 }))
        {
            await Parallel.ForEachAsync(Fleet.MachineIds(DistinctMachines, seed: 2), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (machine, ct) =>
            {
                var list = await GetAsync(http, new Uri(proxy.Url, $"/_m/{machine}/{RolloutRepository}/SHA256SUMS"));
                var signature = await GetAsync(http, new Uri(proxy.Url, $"/_m/{machine}/{RolloutRepository}/SHA256SUMS.gpg"));
                var listHash = Convert.ToHexStringLower(SHA256.HashData(list));
                lists.TryAdd(listHash, list);
                signatures.TryAdd(Convert.ToHexStringLower(SHA256.HashData(signature)), (listHash, signature));
            });
        }

        var seconds = watch.Elapsed.TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(2));
        var growthMiB = (proxy.Process.RssBytes() - rssBefore) / 1024.0 / 1024;
        Console.WriteLine($"     {DistinctMachines * 2:N0} requests in {seconds:F1} s; RSS {rssBefore / 1024.0 / 1024:F0} MiB before, {growthMiB:+0.0;-0.0} MiB after; {lists.Count} distinct lists, {signatures.Count} distinct signatures");

        // Each signature signs exactly the list it came with: gpg, as systemd-pull runs it, on one per list.
        foreach (var (listHash, signature) in signatures.Values.DistinctBy(s => s.List))
        {
            var verified = await GpgKey.VerifyAsync(key.KeyringPath, signature, lists[listHash]);
            if (verified.ExitCode != 0)
            {
                throw new InvalidOperationException($"a machine's signature does not verify against its list: {verified.Stderr}");
            }
        }

        Add("M2", $"{DistinctMachines:N0} machine keys: RSS growth", $"{growthMiB:F1} MiB", "64 MiB (goal)", 64 / Math.Max(growthMiB, 0.1), 1);
        Add("M3", $"{DistinctMachines:N0} machine keys: signing operations", $"{signatures.Count}", $"{lists.Count} distinct lists", lists.Count / (double)signatures.Count, 1);
    }

    /// <summary>One load run over <paramref name="paths"/>: requests per second, and requests per CPU second of the proxy.</summary>
    private async Task<(double Rps, double PerCpu)> MeasuredLoadAsync(ProxyProcess proxy, IReadOnlyList<string> paths)
    {
        var cpu = proxy.Process.CpuSeconds();
        var watch = Stopwatch.StartNew();
        var rps = await Load.RequestsPerSecondAsync(proxy.Url, paths, Clients, _loadSeconds);
        var requests = rps * watch.Elapsed.TotalSeconds;
        return (rps, requests / (proxy.Process.CpuSeconds() - cpu));
    }
}
