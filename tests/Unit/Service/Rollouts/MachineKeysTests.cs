using SysextFunctions.Rollouts;

namespace SysextFunctions.Tests.Unit.Service.Rollouts;

public class MachineKeysTests
{
    private const string MachineId = "0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData(MachineId)]
    [InlineData("abcdefghijklmnop")]
    [InlineData("A-B_C-D_E-F_G-H_")]
    public void TryHash_WellFormed_Hash(string key) => Assert.NotNull(new MachineKeys("s").TryHash(key));

    [Theory]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("abcdefghijklmno")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefX")]
    [InlineData("0123456789abcdef.0123")]
    [InlineData("0123456789abcdef\n")]
    [InlineData("0123456789abcdéf")]
    public void TryHash_Malformed_Null(string key) => Assert.Null(new MachineKeys("s").TryHash(key));

    [Fact]
    public void ToString_NeverTheKey_First16HexOfHash()
    {
        var hash = new MachineKeys("secret").TryHash(MachineId)!.Value;
        Assert.Matches(@"\A[0-9a-f]{16}\z", hash.ToString());
        Assert.DoesNotContain(MachineId[..8], hash.ToString(), StringComparison.Ordinal);
        Assert.Equal(hash.Prefix, $"{hash}");
    }

    [Fact]
    public void TryHash_SecretMatters_SameSecretSameHash()
    {
        Assert.Equal(new MachineKeys("one").TryHash(MachineId), new MachineKeys("one").TryHash(MachineId));
        Assert.NotEqual(new MachineKeys("one").TryHash(MachineId), new MachineKeys("two").TryHash(MachineId));
        Assert.Equal(MachineKeys.Default.TryHash(MachineId), new MachineKeys(null).TryHash(MachineId));
    }

    [Fact]
    public void Bucket_DeterministicPerVersion_Uniform()
    {
        var keys = new MachineKeys("secret");
        var machines = Enumerable.Range(0, 10_000).Select(i => keys.TryHash($"machine-{i:D10}")!.Value).ToList();
        var v1 = machines.Select(m => m.Bucket("repo", "v1")).ToList();
        var v2 = machines.Select(m => m.Bucket("repo", "v2")).ToList();

        Assert.Equal(v1, machines.Select(m => m.Bucket("repo", "v1")));
        Assert.All(v1, b => Assert.InRange(b, 0, 0.9999999999));
        // Uniform enough: each tenth holds about a tenth (binomial sd is 30 of 1000).
        for (var tenth = 0; tenth < 10; tenth++)
        {
            Assert.InRange(v1.Count(b => b >= tenth / 10.0 && b < (tenth + 1) / 10.0), 850, 1150);
        }

        // Another slice of the fleet for another version: the first 10 % of v1 are not the first 10 % of v2.
        var both = machines.Where((_, i) => v1[i] < 0.1 && v2[i] < 0.1).Count();
        Assert.InRange(both, 50, 150);
        Assert.NotEqual(v1[0], machines[0].Bucket("other", "v1"));
    }

    /// <summary>
    /// The documented formula, worked out with the framework's one-shot functions: buckets must not move between
    /// versions of the server (a machine once offered a version keeps it), whichever way they are computed, on any thread.
    /// </summary>
    [Fact]
    public void Bucket_DocumentedFormula_OnEveryThread()
    {
        var keys = new MachineKeys("secret");
        Parallel.For(0, 2000, i =>
        {
            var key = $"machine-{i:D10}";
            var hmac = System.Security.Cryptography.HMACSHA256.HashData("secret"u8, System.Text.Encoding.ASCII.GetBytes(key));
            var sha = System.Security.Cryptography.SHA256.HashData([.. hmac, 0, .. "sysexts/app"u8, 0, .. System.Text.Encoding.UTF8.GetBytes($"v{i % 7}")]);
            var expected = (System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(sha) >> 11) * (1.0 / (1UL << 53));

            var machine = keys.TryHash(key)!.Value;
            Assert.Equal(Convert.ToHexStringLower(hmac.AsSpan(0, 8)), machine.Prefix);
            Assert.Equal(expected, machine.Bucket("sysexts/app", $"v{i % 7}"));
        });
    }
}
