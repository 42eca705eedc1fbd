namespace SysextFunctions.Tests.Infrastructure;

/// <summary>Locations in the repository checkout the tests run from.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Tools => Path.Combine(Root, "tools");

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
