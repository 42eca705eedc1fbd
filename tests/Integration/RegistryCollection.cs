using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Integration;

/// <summary>One real registry shared by the test classes that only push to repositories of their own.</summary>
[CollectionDefinition(Name)]
public sealed class RegistryCollection : ICollectionFixture<RegistryServer>
{
    public const string Name = "registry";
}
