using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SysextFunctions.Trust;
using SysextFunctions.Upstreams;
using SysextFunctions.Upstreams.Acr;

namespace SysextFunctions.Tests.Unit.Service.Upstreams;

/// <summary>The upstreams and mappings as configuration gives them, checked the way the host checks them at start.</summary>
public class UpstreamOptionsTests
{
    private static Settings Read(params (string Key, string Value)[] settings) =>
        Read(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))
            .Build());

    /// <summary>Registers the upstreams, runs the start-up validation as the host does, and reads what it made.</summary>
    private static Settings Read(IConfiguration configuration)
    {
        var services = new ServiceCollection().AddLogging().AddSingleton(TimeProvider.System);
        services.AddUpstreams(configuration);
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var monitor = provider.GetRequiredService<IOptionsMonitor<UpstreamOptions>>();
        return new Settings(
            [.. provider.GetRequiredService<UpstreamIds>().All.Select(id => (id, monitor.Get(id)))],
            provider.GetRequiredService<IOptions<MappingsOptions>>().Value.Parse(provider.GetRequiredService<LoadedKeys>()));
    }

    private sealed record Settings(IReadOnlyList<(string Id, UpstreamOptions Options)> Registries, IReadOnlyList<RepositoryMapping> Mappings);

    [Fact]
    public void Read_Nothing_DefaultRegistryAnonymousNoMappings()
    {
        var settings = Read();

        var registry = Assert.Single(settings.Registries).Options;
        Assert.Equal(new Uri("http://localhost:5000"), registry.Url);
        Assert.Equal(RegistryCredentialKind.None, registry.CredentialKind);
        Assert.Equal(TimeSpan.FromSeconds(30), registry.Timeout);
        Assert.Empty(settings.Mappings);
    }

    [Fact]
    public void Read_Username_InfersBasic()
    {
        var registry = Read(("Registry:Url", "https://registry.test"), ("Registry:Username", "me"), ("Registry:Password", "pw")).Registries[0].Options;

        Assert.Equal(RegistryCredentialKind.Basic, registry.CredentialKind);
        Assert.Equal("me", registry.Username);
        Assert.DoesNotContain("pw", registry.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_WhatBicepEmits_ManagedIdentityAndMappings()
    {
        // The names infra/main.bicep sets as app settings (Section__Key in the environment).
        var settings = Read(new ConfigurationBuilder().AddEnvironmentVariables("SYSEXT_TEST_").AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Registry:Url"] = "https://myacr.azurecr.io",
            ["Registry:Credential"] = "ManagedIdentity",
            ["Registry:ManagedIdentityClientId"] = "00000000-0000-0000-0000-000000000001",
            ["Mappings:0:Path"] = "kubernetes",
            ["Mappings:0:Repository"] = "sysexts/kubernetes",
            ["Mappings:1:Path"] = "tools/*",
            ["Mappings:1:Repository"] = "sysexts/tools/*",
        }).Build());

        var registry = Assert.Single(settings.Registries).Options;
        Assert.Equal(RegistryCredentialKind.ManagedIdentity, registry.CredentialKind);
        Assert.Equal("00000000-0000-0000-0000-000000000001", registry.ManagedIdentityClientId);
        Assert.IsType<AcrTokenProvider>(registry.CreateCredentials(TimeProvider.System, NullLogger<AcrTokenProvider>.Instance).AccessTokens);
        Assert.Equal(2, settings.Mappings.Count);
        Assert.True(settings.Mappings[1].IsPrefix);
    }

    [Fact]
    public void Read_MoreRegistries_EachWithItsOwnSettings()
    {
        var settings = Read(
            ("Registries:ghcr:Url", "https://ghcr.io"),
            ("Registries:usb:Layout", "/media/usb/sysexts"),
            ("Registries:acr:Url", "https://myacr.azurecr.io"),
            ("Registries:acr:Credential", "defaultazure"),
            ("Registries:acr:Timeout", "00:00:05"),
            ("Mappings:0:Path", "k8s"),
            ("Mappings:0:Repository", "flatcar/sysext-kubernetes"),
            ("Mappings:0:Registry", "ghcr"));

        Assert.Equal(["", "acr", "ghcr", "usb"], settings.Registries.Select(r => r.Id).Order());
        Assert.Equal("/media/usb/sysexts", settings.Registries.Single(r => r.Id == "usb").Options.Layout);
        Assert.Equal(RegistryCredentialKind.DefaultAzure, settings.Registries.Single(r => r.Id == "acr").Options.CredentialKind);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.Registries.Single(r => r.Id == "acr").Options.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.Registries.Single(r => r.Id == "ghcr").Options.Timeout);
        Assert.Equal("registry:ghcr", UpstreamOptions.ClientName("ghcr"));
        Assert.Equal("ghcr", settings.Mappings[0].RegistryId);
    }

    [Theory]
    [InlineData("Registry:Url", "ftp://registry.test", "Registry:Url must be an absolute http or https URL")]
    [InlineData("Registry:Url", "https://me:pw@registry.test", "Registry:Url must not contain credentials; use Registry:Username and Registry:Password")]
    [InlineData("Registry:Credential", "Basic", "Registry:Credential is Basic but Registry:Username is not set")]
    [InlineData("Registry:Credential", "Keys", null)]
    [InlineData("Registries:x:Username", "me", "Registries:x: set exactly one of Url and Layout")]
    [InlineData("Mappings:0:Path", "tools/*", "Mappings:0: a mapping needs both Path and Repository")]
    [InlineData("Registry:TokenRealms:0", "https://auth.test/token", "Registry:TokenRealms:0 must be an origin, scheme://host[:port] with http or https and no path, not 'https://auth.test/token'")]
    [InlineData("Registry:TokenRealms:0", "ftp://auth.test", "Registry:TokenRealms:0 must be an origin, scheme://host[:port] with http or https and no path, not 'ftp://auth.test'")]
    public void Read_BadSetting_ThrowsOneLineReason(string key, string value, string? message)
    {
        var e = Record.Exception(() => Read((key, value)));

        Assert.NotNull(e);
        if (message is not null)
        {
            Assert.Equal(message, e.Message);
        }

        Assert.DoesNotContain("pw@", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tools/*", "sysexts/tools", null, "a prefix (ending in /*) maps only to a prefix")]
    [InlineData("kubernetes", "sysexts/*", null, "a prefix (ending in /*) maps only to a prefix")]
    [InlineData("Kubernetes", "sysexts/kubernetes", null, "not a repository name")]
    [InlineData("kubernetes", "sysexts/kubernetes", "nowhere", "no registry 'nowhere' under Registries")]
    public void Read_BadMapping_Throws(string path, string repository, string? registry, string message)
    {
        var settings = new List<(string, string)> { ("Mappings:0:Path", path), ("Mappings:0:Repository", repository) };
        if (registry is not null)
        {
            settings.Add(("Mappings:0:Registry", registry));
        }

        var e = Assert.Throws<OptionsValidationException>(() => Read([.. settings]));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SamePathTwice_Throws()
    {
        var e = Assert.Throws<OptionsValidationException>(() => Read(
            ("Mappings:0:Path", "k8s"), ("Mappings:0:Repository", "a/k8s"),
            ("Mappings:1:Path", "k8s"), ("Mappings:1:Repository", "b/k8s")));

        Assert.Equal("Mappings:1: path 'k8s' is mapped twice", e.Message);
    }
}
