using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SysextFunctions.Catalogue;
using SysextFunctions.Http;
using SysextFunctions.Registry.Content;
using SysextFunctions.Rollouts;
using SysextFunctions.Sysupdate;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Bench;

/// <summary>
/// The per-request work of a warm SHA256SUMS where a schedule applies, without the HTTP server: parsing the path,
/// where the repository's versions stand now, and which list the path gets. The shape of rows M1/M1c: one version
/// complete and four at 50 %, so a machine gets one of 16 lists, each already made.
/// </summary>
[MemoryDiagnoser]
public class RolloutHotPaths
{
    private const string Repository = "bench/rollout";

    private ServiceProvider? _services;
    private RolloutService? _rollouts;
    private MachineKeys _keys = MachineKeys.Default;
    private Upstream? _upstream;
    private RepositorySnapshot? _snapshot;
    private string[] _machinePaths = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection().AddSingleton<TimeProvider>(TimeProvider.System).AddLogging();
        services.AddHybridCache();
        services.AddMetrics();
        _services = services.BuildServiceProvider();
        var loggers = _services.GetRequiredService<ILoggerFactory>();
        _rollouts = new RolloutService(
            new ImageConfigDates(_services.GetRequiredService<HybridCache>(), TimeProvider.System, loggers.CreateLogger<ImageConfigDates>()),
            ChecksumsSigner.None,
            Options.Create(new RolloutOptions()),
            TimeProvider.System,
            loggers.CreateLogger<RolloutService>(),
            new SysextMetrics(_services.GetRequiredService<IMeterFactory>()));
        _keys = new MachineKeys("bench");
        // Dated, so that no image config is read: v1 long complete, v2..v5 at their first step of 50 %.
        SysextFile[] files = [.. Enumerable.Range(1, 5).Select(v => new SysextFile(
            $"rollout-v{v}.raw", $"v{v}", Digest.Sha256(BitConverter.GetBytes(v).Concat(new byte[28]).ToArray()), 3,
            Created: v == 1 ? new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero) : DateTimeOffset.UtcNow))];
        _upstream = new Upstream(null!, Repository, "") { Rollout = RolloutSchedule.Parse("50%@0m,100%@365d") };
        _snapshot = RepositorySnapshot.Create(files, ChecksumsSigner.None, DateTimeOffset.UtcNow);
        _machinePaths = [.. Enumerable.Range(0, 1000).Select(i => $"/_m/{i:x32}/{Repository}/SHA256SUMS")];
        foreach (var path in _machinePaths)
        {
            MachineScoped();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _rollouts?.Dispose();
        _services?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public ChecksumsList Anonymous() => List($"/{Repository}/SHA256SUMS");

    [Benchmark]
    public ChecksumsList MachineScoped() => List(_machinePaths[_next++ % _machinePaths.Length]);

    private ChecksumsList List(string target)
    {
        var path = SysupdatePath.Parse(target, _keys).Path!;
        var rollout = _rollouts!.GetAsync(_upstream!, _snapshot!).GetAwaiter().GetResult();
        return _rollouts.ChecksumsFor(_snapshot!, rollout, path.Machine, path.Repository);
    }
}
