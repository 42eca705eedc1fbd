using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SysextFunctions.Sysupdate;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.EndToEnd.Sysupdate;

/// <summary>
/// Phased rollouts (docs/rollouts.md) as a fleet sees them: 40 machine roots, each with its own
/// <c>/etc/machine-id</c>, all with the same transfer definition whose <c>Path=</c> has <c>%m</c>, run by the real
/// systemd-sysupdate 254 and the newest one (<see cref="Fleet"/>), against the real registry through the proxy, with
/// versions and policies pushed by the real oras.
/// </summary>
[Collection(RegistryCollection.Name)]
public class FleetRolloutTests(RegistryServer registry)
{
    private const int Machines = 40;

    /// <summary>Half the fleet from the moment of publishing, everyone a year later: v1 (2020) is complete, on every machine.</summary>
    private const string HalfSteps = "50%@0m,100%@365d";

    private readonly Oras _oras = new(registry.Url);

    /// <summary>Without a schedule the machine-scoped path is the plain one: every machine sees every version.</summary>
    [Theory]
    [InlineData(SysupdateClient.V254)]
    [InlineData(SysupdateClient.Newest)]
    public async Task MachineScoped_NoSchedule_EveryMachineSeesEveryVersion(string client)
    {
        var sysupdate = SysupdateClient.Get(client);
        var (repository, _) = await PushVersionsAsync($"plain/{client}", ("v1", Old), ("v2", null));
        await using var proxy = await ProxyServer.StartAsync(registry.Url);
        using var fleet = Fleet.Create(Machines, seed: 18);
        fleet.Define(Definition(proxy.Url, repository, verify: false));

        var listed = await fleet.ListAsync(sysupdate);

        Assert.All(fleet.Machines, machine => Assert.Equal(["v1", "v2"], listed[machine].Order(StringComparer.Ordinal)));
    }

    /// <summary>
    /// With a 50 % step and <c>Verify=yes</c>: the new version reaches between 30 % and 70 % of the fleet, every
    /// machine's signed list verifies, a second server process (same settings, its own memory) offers it to exactly
    /// the same machines, and <c>update</c> there installs it byte for byte on exactly those, nowhere else.
    /// </summary>
    [Theory]
    [InlineData(SysupdateClient.V254)]
    [InlineData(SysupdateClient.Newest)]
    public async Task FiftyPercentStep_SplitsFleet_SameOnSecondProcess_UpdateInstallsOnExactlyThose(string client)
    {
        var sysupdate = SysupdateClient.Get(client);
        var (repository, images) = await PushVersionsAsync($"half/{client}", ("v1", Old), ("v2", null));
        await using var key = await GpgKey.CreateAsync();
        using var keys = new TempDirectory("sysext-fleet-key-");
        var keyFile = keys.Combine("signing.asc");
        await File.WriteAllBytesAsync(keyFile, await key.ExportSecretAsync(armor: true));
        var settings = new Dictionary<string, string?>
        {
            ["Signing:KeyFile"] = keyFile,
            ["Rollout:Steps"] = HalfSteps,
            ["Rollout:MachineKeySecret"] = "fleet-tests-secret",
        };
        using var fleet = Fleet.Create(Machines, seed: 1803);
        fleet.Install("hello-v1.raw", images["v1"]);

        IReadOnlyDictionary<FleetMachine, IReadOnlySet<string>> first;
        await using (var proxy = await ProxyServer.StartAsync(registry.Url, settings))
        {
            fleet.Define(Definition(proxy.Url, repository, verify: true));
            first = await fleet.ListAsync(sysupdate, key.KeyringPath).ExplainedBy(proxy);
        }

        await using var second = await ProxyProcess.StartAsync(registry.Url, [.. settings.Select(s => $"--{s.Key}={s.Value}")]);
        fleet.Define(Definition(second.Url, repository, verify: true));
        var again = await fleet.ListAsync(sysupdate, key.KeyringPath);
        var updates = await fleet.UpdateAsync(sysupdate, key.KeyringPath);

        var offered = fleet.Machines.Where(m => first[m].Contains("v2")).ToHashSet();
        Assert.InRange(offered.Count, Machines * 30 / 100, Machines * 70 / 100);
        Assert.All(fleet.Machines, m => Assert.Contains("v1", first[m]));
        Assert.All(fleet.Machines, m => Assert.Equal(first[m].Order(StringComparer.Ordinal), again[m].Order(StringComparer.Ordinal)));
        Assert.All(fleet.Machines, m =>
        {
            var update = updates[m];
            Assert.True(update.ExitCode == 0, $"{m}: {update}");
            Assert.Contains("Signature verification succeeded", update.Stderr, StringComparison.Ordinal);
            var installed = File.Exists(m.Target("hello-v2.raw"));
            Assert.True(installed == offered.Contains(m), $"{m}: offered {offered.Contains(m)}, installed {installed}");
            if (installed)
            {
                Assert.Equal(images["v2"], File.ReadAllBytes(m.Target("hello-v2.raw")));
            }

            Assert.Equal(images["v1"], File.ReadAllBytes(m.Target("hello-v1.raw")));
        });
    }

    /// <summary>
    /// Halt and promote end to end, on an injected clock: v2 and v3 start at 50 %; a policy pushed with oras pauses
    /// v2; two hours later (when the schedule says 100 %) v3 has reached every machine while v2 is on exactly the
    /// machines that had it at the halt; a second policy promotes v2, and the next listing has it everywhere. The
    /// listing TTL is zero, so "within one TTL" is "at the next listing": no waiting.
    /// </summary>
    [Theory]
    [InlineData(SysupdateClient.V254)]
    [InlineData(SysupdateClient.Newest)]
    public async Task Halt_PolicyPushedWithOras_NoNewMachine_ThoseOfferedKeepIt_PromoteReachesAll(string client)
    {
        var sysupdate = SysupdateClient.Get(client);
        var (repository, _) = await PushVersionsAsync($"halt/{client}", ("v1", Old), ("v2", null), ("v3", null));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddSeconds(1));
        await using var proxy = await ProxyServer.StartAsync(
            registry.Url,
            new Dictionary<string, string?>
            {
                ["Rollout:Steps"] = "50%@0m,100%@1h",
                ["Rollout:MachineKeySecret"] = "fleet-tests-secret",
                ["Cache:ChecksumsTtl"] = "00:00:00",
            },
            builder => builder.Services.AddSingleton<TimeProvider>(clock));
        using var fleet = Fleet.Create(Machines, seed: 1804);
        fleet.Define(Definition(proxy.Url, repository, verify: false));

        var before = await fleet.ListAsync(sysupdate);
        await _oras.PushRolloutPolicyAsync(repository, """{"versions": {"v2": {"pauses": [{"from": "FROM"}]}}}""".Replace("FROM", Rfc3339(clock.GetUtcNow()), StringComparison.Ordinal));
        clock.Advance(TimeSpan.FromHours(2));
        var halted = await fleet.ListAsync(sysupdate);
        var haltedCatalogue = await CatalogueAsync(proxy, repository);
        await _oras.PushRolloutPolicyAsync(repository, """{"versions": {"v2": {"pauses": [], "promote": true}}}""");
        var promoted = await fleet.ListAsync(sysupdate);
        var promotedCatalogue = await CatalogueAsync(proxy, repository);

        var hadV2 = Having(fleet, before, "v2");
        Assert.InRange(hadV2.Count, Machines * 30 / 100, Machines * 70 / 100);
        Assert.InRange(Having(fleet, before, "v3").Count, Machines * 30 / 100, Machines * 70 / 100);
        Assert.True(hadV2.Order().SequenceEqual(Having(fleet, halted, "v2").Order()), $"v2 before the halt on {string.Join(' ', hadV2)}, after on {string.Join(' ', Having(fleet, halted, "v2"))}; the catalogue: {haltedCatalogue}");
        Assert.True(Having(fleet, halted, "v3").Count == Machines, $"v3 two hours on: {Having(fleet, halted, "v3").Count} machines; the catalogue: {haltedCatalogue}");
        Assert.True(Having(fleet, promoted, "v2").Count == Machines, $"v2 promoted: {Having(fleet, promoted, "v2").Count} machines; the catalogue: {promotedCatalogue}");
        Assert.All(fleet.Machines, m => Assert.Contains("v1", halted[m]));
    }

    /// <summary>
    /// A machine offered nothing (its only version held back by the rollout) gets a list that names no file of ours
    /// rather than an empty one, which systemd-pull 254 and 257 refuse ("Premature connection termination."): for
    /// sysupdate that is "nothing new", as for a machine that is up to date. <c>check-new</c> prints nothing and exits
    /// 1 (its "no newer version"), <c>update</c> says "No update needed." and exits 0, and nothing is installed.
    /// </summary>
    [Theory]
    [InlineData(SysupdateClient.V254)]
    [InlineData(SysupdateClient.Newest)]
    public async Task NothingOffered_CheckNewAndUpdate_NothingToDo(string client)
    {
        var sysupdate = SysupdateClient.Get(client);
        var (repository, _) = await PushVersionsAsync($"nothing/{client}", ("v1", null));
        await using var proxy = await ProxyServer.StartAsync(registry.Url, new Dictionary<string, string?>
        {
            // One machine in 100,000 from the start: none of these four.
            ["Rollout:Steps"] = "0.001%@0m,100%@365d",
            ["Rollout:MachineKeySecret"] = "fleet-tests-secret",
        });
        using var fleet = Fleet.Create(4, seed: 1805);
        fleet.Install("hello-v0.raw", Payloads.Random(1024, 1805));
        fleet.Define(Definition(proxy.Url, repository, verify: false));

        var checks = await fleet.RunAsync(sysupdate, null, ["check-new"]);
        var updates = await fleet.UpdateAsync(sysupdate);

        Assert.All(fleet.Machines, m =>
        {
            Assert.True(checks[m].ExitCode == 1 && checks[m].Stdout.Trim().Length == 0 && !checks[m].Stderr.Contains("failed", StringComparison.OrdinalIgnoreCase), $"{m} check-new: {checks[m]}");
            Assert.True(updates[m].ExitCode == 0, $"{m} update: {updates[m]}");
            Assert.Contains("No update needed.", updates[m].Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(m.Target("hello-v1.raw")));
        });
        using var http = proxy.CreateClient();
        foreach (var machine in fleet.Machines)
        {
            Assert.Equal(Checksums.NothingLine, await http.GetStringAsync($"/_m/{machine.MachineId}/{repository}/SHA256SUMS"));
        }
    }

    /// <summary>The catalogue's JSON, which says where each version stands: for the failure messages.</summary>
    private static async Task<string> CatalogueAsync(ProxyServer proxy, string repository)
    {
        using var http = proxy.CreateClient();
        return await http.GetStringAsync($"/{repository}/").ExplainedBy(proxy);
    }

    /// <summary>Long before any step: fully rolled out everywhere.</summary>
    private static DateTimeOffset Old => new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static List<int> Having(Fleet fleet, IReadOnlyDictionary<FleetMachine, IReadOnlySet<string>> listed, string version) =>
        [.. fleet.Machines.Where(m => listed[m].Contains(version)).Select(m => m.Number)];

    private static string Rfc3339(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static Transfer Definition(Uri server, string repository, bool verify) =>
        new("hello",
            TransferResource.MachineScoped(server, repository, "hello-@v.raw"),
            TransferResource.RegularFile(Fleet.TargetDirectory, "hello-@v.raw"))
        {
            Verify = verify,
            InstancesMax = 3,
        };

    /// <summary>Pushes each version with oras; a null date lets oras stamp the push time (published now).</summary>
    private async Task<(string Repository, Dictionary<string, byte[]> Images)> PushVersionsAsync(string name, params (string Version, DateTimeOffset? Created)[] versions)
    {
        var repository = $"e2e/fleet/{name}/hello";
        var images = new Dictionary<string, byte[]>();
        foreach (var ((version, created), i) in versions.Select((v, i) => (v, i)))
        {
            images[version] = Payloads.Random(32 * 1024 + i, 1800 + i);
            await _oras.PushAsync(repository, version, $"hello-{version}.raw", images[version], created: created);
        }

        return (repository, images);
    }
}
