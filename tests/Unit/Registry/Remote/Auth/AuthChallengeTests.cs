using System.Net.Http.Headers;
using SysextFunctions.Registry.Remote.Auth;

namespace SysextFunctions.Tests.Unit.Registry.Remote.Auth;

public class AuthChallengeTests
{
    [Theory]
    [InlineData("Bearer realm=\"https://auth.test/token\",service=\"registry.test\",scope=\"repository:a/b:pull\"", "Bearer", "https://auth.test/token", "registry.test", "repository:a/b:pull")]
    [InlineData("Bearer realm=\"https://auth.test/token\", service=\"registry.test\", scope=\"repository:a:pull,push\"", "Bearer", "https://auth.test/token", "registry.test", "repository:a:pull,push")]
    [InlineData("Bearer realm=https://auth.test/token,service=registry.test", "Bearer", "https://auth.test/token", "registry.test", null)]
    [InlineData("bearer REALM=\"https://auth.test/token\"", "bearer", "https://auth.test/token", null, null)]
    [InlineData("Bearer realm=\"https://auth.test/t\\\"oken\"", "Bearer", "https://auth.test/t\"oken", null, null)]
    [InlineData("Basic realm=\"Registry Realm\"", "Basic", "Registry Realm", null, null)]
    [InlineData("Bearer", "Bearer", null, null, null)]
    public void Parse_ChallengeParameters(string header, string scheme, string? realm, string? service, string? scope)
    {
        var challenge = AuthChallenge.Parse(AuthenticationHeaderValue.Parse(header));

        Assert.Equal(new AuthChallenge(scheme, realm, service, scope), challenge);
    }

    [Fact]
    public void TryParse_BasicAndBearer_PrefersBearer()
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ParseAdd("Basic realm=\"r\"");
        response.Headers.WwwAuthenticate.ParseAdd("Bearer realm=\"https://auth.test/token\"");

        Assert.True(AuthChallenge.TryParse(response, out var challenge));
        Assert.True(challenge.IsBearer);
    }

    [Fact]
    public void TryParse_NoChallenge_False()
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.Unauthorized);

        Assert.False(AuthChallenge.TryParse(response, out _));
    }
}
