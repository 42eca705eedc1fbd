using System.Net;
using SysextFunctions.Registry;
using SysextFunctions.Registry.Remote.Auth;
using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Unit.Registry.Remote.Auth;

/// <summary>Where a registry's token realm may send us (the rules; the whole server's answers are in HostileRegistryAuthTests).</summary>
public class TokenRealmPolicyTests
{
    private static readonly FakeHostResolver Names = new FakeHostResolver()
        .Add("registry.test", "203.0.113.10")
        .Add("tokens.test", "198.51.100.7")
        .Add("internal.test", "10.1.2.3")
        .Add("private-registry.test", "172.20.0.2");

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.255.0.1", true)]
    [InlineData("10.0.0.1", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.31.255.255", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.0.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("100.128.0.1", false)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::", true)]
    [InlineData("::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd12:3456::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("::ffff:8.8.8.8", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("2001:db8::1", false)]
    public void IsInternal_Table(string address, bool expected) =>
        Assert.Equal(expected, TokenRealmPolicy.IsInternal(IPAddress.Parse(address)));

    [Theory]
    [InlineData("https://registry.test", "https://registry.test/token", true, null)]
    [InlineData("http://registry.test", "http://registry.test/token", true, null)]
    [InlineData("https://registry.test", "http://registry.test:8080/token", false, RegistryFailure.InvalidResponse)]
    [InlineData("https://registry.test", "https://registry.test:8443/token", true, null)]
    [InlineData("https://registry.test", "https://tokens.test/token", true, null)]
    [InlineData("https://registry.test", "https://internal.test/token", false, RegistryFailure.InvalidResponse)]
    [InlineData("https://private-registry.test", "https://internal.test/token", true, null)]
    [InlineData("https://registry.test", "https://[::1]:5001/token", false, RegistryFailure.InvalidResponse)]
    [InlineData("https://registry.test", "https://unknown.test/token", false, RegistryFailure.Unavailable)]
    public async Task CheckAsync_Table(string registry, string realm, bool allowed, RegistryFailure? failure)
    {
        var policy = new TokenRealmPolicy(new Uri(registry), [], Names);

        var e = await Record.ExceptionAsync(() => policy.CheckAsync(new Uri(realm), withPassword: true));

        Assert.Equal(allowed, e is null);
        Assert.Equal(failure, (e as RegistryException)?.Failure);
    }

    [Theory]
    [InlineData("https://internal.test", "https://internal.test/token", true, true)]
    [InlineData("http://tokens.test", "http://tokens.test/token", false, true)]
    [InlineData("http://tokens.test", "http://tokens.test/token", true, false)]
    [InlineData("https://internal.test", "https://internal.test:444/token", false, false)]
    public async Task CheckAsync_TrustedOrigin_AnyAddressButNoPasswordOverPlainHttp(string trusted, string realm, bool withPassword, bool allowed)
    {
        var policy = new TokenRealmPolicy(new Uri("https://registry.test"), [new Uri(trusted)], Names);

        var e = await Record.ExceptionAsync(() => policy.CheckAsync(new Uri(realm), withPassword));

        Assert.Equal(allowed, e is null);
    }
}
