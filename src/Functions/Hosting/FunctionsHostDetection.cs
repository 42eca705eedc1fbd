using Microsoft.Extensions.Configuration;

namespace SysextFunctions.Hosting;

/// <summary>Tells whether the Azure Functions host started this process, from what that host passes to its worker.</summary>
public static class FunctionsHostDetection
{
    public static bool IsFunctionsHost(string[] args)
    {
        if (args.Any(a => a.StartsWith("--functions-uri", StringComparison.Ordinal)))
        {
            return true;
        }

        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
        return !string.IsNullOrEmpty(configuration["Functions:Worker:HostEndpoint"]);
    }
}
