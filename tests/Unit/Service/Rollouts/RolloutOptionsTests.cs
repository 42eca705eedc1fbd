using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SysextFunctions.Hosting;
using SysextFunctions.Rollouts;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Tests.Unit.Service.Rollouts;

/// <summary>The <c>Rollout</c> settings, global and per mapping, checked the way the host checks them at start.</summary>
public class RolloutOptionsTests
{
    private static ServiceProvider Start(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddSysextProxy(configuration);
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        return provider;
    }

    [Fact]
    public void Start_NoSchedule_NoRollout()
    {
        using var provider = Start();
        Assert.Null(provider.GetRequiredService<UpstreamResolver>().Resolve("sysexts/app")!.Rollout);
        Assert.True(provider.GetRequiredService<MachineKeys>().IsDefaultSecret);
        Assert.Equal(PlainPathListing.All, provider.GetRequiredService<IOptions<RolloutOptions>>().Value.PlainPath);
    }

    [Fact]
    public void Start_GlobalAndMappingSchedules_EachRepositoryItsOwn()
    {
        using var provider = Start(
            ("Rollout:Steps", "5%@0h,100%@2d"),
            ("Rollout:MachineKeySecret", "s3cret"),
            ("Rollout:PlainPath", "Complete"),
            ("Mappings:0:Path", "fast"), ("Mappings:0:Repository", "sysexts/fast"), ("Mappings:0:Rollout:Steps", "50%@0m,100%@30m"),
            ("Mappings:1:Path", "slow"), ("Mappings:1:Repository", "sysexts/slow"));
        var resolver = provider.GetRequiredService<UpstreamResolver>();

        Assert.Equal("50%@0m,100%@30m", resolver.Resolve("fast")!.Rollout!.Text);
        Assert.Equal("5%@0h,100%@2d", resolver.Resolve("slow")!.Rollout!.Text);
        Assert.False(provider.GetRequiredService<MachineKeys>().IsDefaultSecret);
        Assert.Equal(PlainPathListing.Complete, provider.GetRequiredService<IOptions<RolloutOptions>>().Value.PlainPath);
    }

    [Theory]
    [InlineData("Rollout:Steps", "5%@0h,50%@1d", "Rollout:Steps the last step must be 100%")]
    [InlineData("Rollout:Steps", "50%@0h,5%@1d,100%@2d", "Rollout:Steps step '5%@1d': shares and delays must rise")]
    [InlineData("Rollout:Steps", "5 percent", "Rollout:Steps step '5 percent' is not")]
    [InlineData("Mappings:0:Rollout:Steps", "100%@1w", "Mappings:0: Rollout:Steps step '100%@1w' is not")]
    public void Start_BadSchedule_RefusedNamingTheSetting(string key, string value, string message)
    {
        var e = Assert.Throws<OptionsValidationException>(() => Start(("Mappings:0:Path", "app"), ("Mappings:0:Repository", "sysexts/app"), (key, value)));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_BadPlainPath_Refused()
    {
        Assert.ThrowsAny<Exception>(() => Start(("Rollout:PlainPath", "Some")));
    }
}
