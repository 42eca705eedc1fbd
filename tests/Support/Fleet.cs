using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// A fleet of machine roots for the real systemd-sysupdate (docs/rollouts.md): each a folder with its own
/// <c>/etc/machine-id</c> (32 hex digits, drawn from a seed so a run can be repeated), an <c>/etc/os-release</c>, and
/// one transfer definition in <c>/etc/sysupdate.d</c>, the same text on every machine. sysupdate runs with
/// <c>--root=</c> on each (<see cref="SysupdateClient.RunInRootAsync"/>): it takes <c>%m</c> from the root's machine id,
/// installs below the root, and a chroot client sees the roots through a bind mount of the fleet's folder. Runs go a
/// few at a time (<see cref="Parallelism"/>); each is bounded in time by the client runner.
/// </summary>
internal sealed class Fleet : IDisposable
{
    /// <summary>Where the definition installs, inside each root.</summary>
    public const string TargetDirectory = "/opt/extensions";

    private readonly TempDirectory _dir;

    private Fleet(TempDirectory dir, IReadOnlyList<FleetMachine> machines)
    {
        _dir = dir;
        Machines = machines;
    }

    public IReadOnlyList<FleetMachine> Machines { get; }

    /// <summary>How many sysupdate runs at once: the machine has two cores, shared.</summary>
    public int Parallelism { get; init; } = 4;

    /// <summary>
    /// Makes <paramref name="count"/> machine roots whose ids follow from <paramref name="seed"/>; <see cref="Define"/>
    /// gives them their transfer definition.
    /// </summary>
    public static Fleet Create(int count, int seed)
    {
        var dir = new TempDirectory("sysext-fleet-");
        var machines = MachineIds(count, seed).Select((id, i) =>
        {
            var root = dir.CreateDirectory($"m{i:D3}");
            Directory.CreateDirectory(Path.Combine(root, "etc", "sysupdate.d"));
            Directory.CreateDirectory(Path.Combine(root, TargetDirectory.TrimStart('/')));
            File.WriteAllText(Path.Combine(root, "etc", "machine-id"), id + "\n");
            File.WriteAllText(Path.Combine(root, "etc", "os-release"), "ID=debian\nVERSION_ID=12\nPRETTY_NAME=\"fleet machine\"\n");
            return new FleetMachine(i, id, root);
        }).ToList();
        return new Fleet(dir, machines);
    }

    /// <summary>
    /// Writes <paramref name="transfer"/> (the same text on every machine: its <c>%m</c> makes the difference) into
    /// each root's <c>/etc/sysupdate.d</c>, replacing an earlier one of the same name. Its target paths are inside
    /// the root (<see cref="TargetDirectory"/>).
    /// </summary>
    public void Define(Transfer transfer)
    {
        foreach (var machine in Machines)
        {
            File.WriteAllText(Path.Combine(machine.Root, "etc", "sysupdate.d", $"50-{transfer.Name}.conf"), transfer.ToString());
        }
    }

    /// <summary>
    /// Distinct machine ids as systemd-machine-id-setup makes them (random, formatted as a v4 UUID without dashes),
    /// from a seeded generator: the same seed gives the same fleet.
    /// </summary>
    public static IReadOnlyList<string> MachineIds(int count, int seed)
    {
        var random = new Random(seed);
        var ids = new List<string>(count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (ids.Count < count)
        {
            var bytes = new byte[16];
            random.NextBytes(bytes);
            bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
            bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
            var id = Convert.ToHexStringLower(bytes);
            if (seen.Add(id))
            {
                ids.Add(id);
            }
        }

        return ids;
    }

    /// <summary>Puts a file into every machine's target directory, as if that version were installed already.</summary>
    public void Install(string fileName, byte[] content)
    {
        foreach (var machine in Machines)
        {
            File.WriteAllBytes(machine.Target(fileName), content);
        }
    }

    /// <summary>
    /// <c>list --json=short</c> on every machine: the versions each one sees (installed or offered). A failed run
    /// fails the test, naming the machine.
    /// </summary>
    public async Task<IReadOnlyDictionary<FleetMachine, IReadOnlySet<string>>> ListAsync(SysupdateClient client, string? keyring = null, CancellationToken cancellationToken = default)
    {
        var runs = await RunAsync(client, keyring, ["--json=short", "list"], cancellationToken);
        return runs.ToDictionary(r => r.Key, r => Versions(client, r.Key, r.Value));
    }

    /// <summary><c>update</c> on every machine; the runs, for the caller to check.</summary>
    public Task<IReadOnlyDictionary<FleetMachine, ProcessRun>> UpdateAsync(SysupdateClient client, string? keyring = null, CancellationToken cancellationToken = default) =>
        RunAsync(client, keyring, ["update"], cancellationToken);

    /// <summary>Runs sysupdate with <paramref name="arguments"/> on every machine, <see cref="Parallelism"/> at a time.</summary>
    public async Task<IReadOnlyDictionary<FleetMachine, ProcessRun>> RunAsync(SysupdateClient client, string? keyring, string[] arguments, CancellationToken cancellationToken = default)
    {
        var runs = new ConcurrentDictionary<FleetMachine, ProcessRun>();
        await Parallel.ForEachAsync(
            Machines,
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (machine, _) => runs[machine] = await client.RunInRootAsync(machine.Root, _dir.Path, keyring, arguments));
        return runs;
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>254 prints <c>[{"version": …}, …]</c>; 257 and later <c>{"current": …, "all": […]}</c>.</summary>
    private static IReadOnlySet<string> Versions(SysupdateClient client, FleetMachine machine, ProcessRun run)
    {
        Assert.True(run.ExitCode == 0, $"{client} list on {machine}: {run}");
        using var json = JsonDocument.Parse(run.Stdout);
        var versions = json.RootElement.ValueKind == JsonValueKind.Array
            ? json.RootElement.EnumerateArray().Select(e => e.GetProperty("version").GetString()!)
            : json.RootElement.GetProperty("all").EnumerateArray().Select(v => v.GetString()!);
        return versions.ToHashSet(StringComparer.Ordinal);
    }
}

/// <summary>One machine of a <see cref="Fleet"/>: its number, its machine id and its root folder.</summary>
internal sealed record FleetMachine(int Number, string MachineId, string Root)
{
    /// <summary>A file in the machine's target directory, as the host sees it.</summary>
    public string Target(string fileName) => Path.Combine(Root, Fleet.TargetDirectory.TrimStart('/'), fileName);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"machine {Number} ({MachineId})");
}
