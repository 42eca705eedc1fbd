using System.Text;
using SysextFunctions.Rollouts;

namespace SysextFunctions.Tests.Unit.Service.Rollouts;

public class RolloutPolicyTests
{
    private static RolloutPolicy Parse(string json) => RolloutPolicy.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Parse_ContractExample_AllParts()
    {
        var policy = Parse("""
            {
              "versions": {
                "v1.3": { "pauses": [ { "from": "2026-12-03T10:00:00Z", "until": "2026-12-04T09:00:00Z" }, { "from": "2026-12-05T08:00:00+01:00" } ] },
                "v1.4": { "promote": true },
                "v1.5": { "steps": "1%@0h,10%@1d,100%@3d" }
              }
            }
            """);

        var pauses = policy.For("v1.3")!.Pauses;
        Assert.Equal(2, pauses.Count);
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 9, 0, 0, TimeSpan.Zero), pauses[0].Until);
        Assert.Equal(new DateTimeOffset(2026, 12, 5, 7, 0, 0, TimeSpan.Zero), pauses[1].From);
        Assert.Null(pauses[1].Until);
        Assert.True(policy.For("v1.4")!.Promote);
        Assert.Equal(3, policy.For("v1.5")!.Steps!.Steps.Count);
        Assert.Null(policy.For("v9"));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"versions": {}}""")]
    public void Parse_Empty_NoVersions(string json) => Assert.Empty(Parse(json).Versions);

    [Theory]
    [InlineData("", "not a rollout policy")]
    [InlineData("not json", "not a rollout policy")]
    [InlineData("[]", "not a rollout policy")]
    [InlineData("null", "null")]
    [InlineData("""{"version": {}}""", "not a rollout policy")]
    [InlineData("""{"versions": {"v1": {"promoted": true}}}""", "not a rollout policy")]
    [InlineData("""{"versions": {"v1": {"promote": "yes"}}}""", "not a rollout policy")]
    [InlineData("""{"versions": {"v1": {"pauses": [{"until": "2026-12-03T10:00:00Z"}]}}}""", "needs 'from'")]
    [InlineData("""{"versions": {"v1": {"pauses": [{"from": "2026-12-03T10:00:00"}]}}}""", "offset")]
    [InlineData("""{"versions": {"v1": {"pauses": [{"from": "yesterday"}]}}}""", "offset")]
    [InlineData("""{"versions": {"v1": {"pauses": [{"from": "2026-12-03T10:00:00Z", "until": "2026-12-03T09:00:00Z"}]}}}""", "after it starts")]
    [InlineData("""{"versions": {"v1": {"steps": "50%@0h"}}}""", "steps the last step must be 100%")]
    [InlineData("""{"versions": {"v1": null}}""", "null")]
    public void Parse_Malformed_FormatExceptionSaysWhy(string json, string reason)
    {
        var e = Assert.Throws<FormatException>(() => Parse(json));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Huge_RefusedUnparsed()
    {
        var huge = "{\"versions\": {" + string.Join(',', Enumerable.Range(0, 5000).Select(i => $"\"v{i}\": {{\"promote\": true}}")) + "}}";
        Assert.True(Encoding.UTF8.GetByteCount(huge) > RolloutPolicy.MaxBytes);
        var e = Assert.Throws<FormatException>(() => Parse(huge));
        Assert.Contains("larger than 64 KiB", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DeepNesting_Refused()
    {
        var deep = """{"versions": {"v1": {"pauses": [""" + new string('[', 100) + new string(']', 100) + "]}}}";
        Assert.Throws<FormatException>(() => Parse(deep));
    }
}
