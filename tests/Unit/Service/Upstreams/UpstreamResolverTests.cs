using NSubstitute;
using SysextFunctions.Registry;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Tests.Unit.Service.Upstreams;

public class UpstreamResolverTests
{
    private readonly IOciSource _default = Substitute.For<IOciSource>();
    private readonly IOciSource _other = Substitute.For<IOciSource>();

    private UpstreamResolver Resolver(params RepositoryMapping[] mappings) =>
        new(mappings, id => id == "other" ? _other : _default);

    [Fact]
    public void Resolve_NoMappings_PassesThroughToDefault()
    {
        var upstream = new UpstreamResolver(_default).Resolve("sysexts/tools/kubernetes");

        Assert.Equal(new Upstream(_default, "sysexts/tools/kubernetes", ""), upstream);
    }

    [Theory]
    [InlineData("kubernetes", "flatcar/sysext-kubernetes", "other")]
    [InlineData("tools/jq", "sysexts/tools/jq", "")]
    [InlineData("tools/net/curl", "sysexts/tools/net/curl", "")]
    [InlineData("tools/special", "vendor/special", "other")]
    [InlineData("anything/else", "mirror/anything/else", "")]
    [InlineData("tools", "mirror/tools", "")]
    public void Resolve_Mapped_ExactThenLongestPrefix(string repository, string expected, string registry)
    {
        var resolver = Resolver(
            RepositoryMapping.Parse("*", "mirror/*", null),
            RepositoryMapping.Parse("tools/*", "sysexts/tools/*", null),
            RepositoryMapping.Parse("tools/special", "vendor/special", "other"),
            RepositoryMapping.Parse("kubernetes", "flatcar/sysext-kubernetes", "other"));

        var upstream = resolver.Resolve(repository);

        Assert.Equal(new Upstream(registry == "other" ? _other : _default, expected, registry), upstream);
    }

    [Theory]
    [InlineData("secret/repository")]
    [InlineData("kubernetes-dev")]
    [InlineData("tools")]
    [InlineData("kubernetes/extra")]
    [InlineData("toolsx/jq")]
    public void Resolve_Unmapped_IsNull(string repository)
    {
        var resolver = Resolver(
            RepositoryMapping.Parse("kubernetes", "flatcar/sysext-kubernetes", "other"),
            RepositoryMapping.Parse("tools/*", "sysexts/tools/*", null));

        Assert.Null(resolver.Resolve(repository));
    }

    [Fact]
    public void Resolve_PrefixMakesOverlongName_IsNull()
    {
        var resolver = Resolver(RepositoryMapping.Parse("t/*", new string('a', 200) + "/*", null));

        Assert.Null(resolver.Resolve("t/" + new string('b', 100)));
    }
}
