using System.Reflection;

namespace SysextFunctions.Tests.Support;

/// <summary>Locations in the repository checkout the tests and the benchmark run from.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Tools => Path.Combine(Root, "tools");

    /// <summary>
    /// src/Functions' build output of the configuration and framework this code was built for: the tests' and the
    /// benchmark's project references build it.
    /// </summary>
    public static string FunctionsOutput { get; } = Path.Combine(Root, "src", "Functions", "bin",
        typeof(RepoPaths).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration,
        new DirectoryInfo(AppContext.BaseDirectory).Name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SysextFunctions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("SysextFunctions.sln not found above " + AppContext.BaseDirectory);
    }
}
