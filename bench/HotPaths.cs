using BenchmarkDotNet.Attributes;
using SysextFunctions.Registry.Content;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Bench;

/// <summary>The per-request work that is not I/O: parsing the path, rendering SHA256SUMS for a 300-tag repository.</summary>
[MemoryDiagnoser]
public class HotPaths
{
    private SysextFile[] _files = [];

    [GlobalSetup]
    public void Setup() => _files = [.. Enumerable.Range(0, 300).Select(i =>
        new SysextFile($"kubernetes-v1.{i / 100}.{i % 100}-x86-64.raw", $"v1.{i / 100}.{i % 100}-x86-64", Digest.Sha256(BitConverter.GetBytes(i).Concat(new byte[28]).ToArray()), 1000 + i))];

    [Benchmark]
    public PathParseResult ParseChecksumsPath() => SysupdatePath.Parse("/sysexts/tools/kubernetes/SHA256SUMS");

    [Benchmark]
    public PathParseResult ParseFilePath() => SysupdatePath.Parse("/sysexts/tools/kubernetes/kubernetes-v1.27.8-x86-64.raw");

    [Benchmark]
    public byte[] RenderChecksums300() => Checksums.Render(_files);

    [Benchmark]
    public RepositorySnapshot Snapshot300() => RepositorySnapshot.Create(_files, ChecksumsSigner.None, DateTimeOffset.UnixEpoch);
}
