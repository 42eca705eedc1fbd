using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace SysextFunctions.Hosting;

/// <summary>
/// Every setting checked once, before the host starts, in both hostings: each options section bound and validated
/// (<c>ValidateOnStart</c>), so that a wrong value stops the start with one line naming the setting instead of
/// starting and then failing every request, and instead of an unhandled exception's stack trace and abort.
/// </summary>
public static class StartupCheck
{
    /// <summary>EX_CONFIG from sysexits.h: systemd and the Functions host see a failed start, not a crash.</summary>
    public const int ConfigurationError = 78;

    /// <summary>What is wrong with the settings, one line each; empty when they are fine.</summary>
    public static IReadOnlyList<string> Failures(IServiceProvider services)
    {
        try
        {
            services.GetRequiredService<IStartupValidator>().Validate();
            return [];
        }
        catch (Exception e) when (e is OptionsValidationException or InvalidOperationException or AggregateException or FormatException)
        {
            return [.. Flatten(e).Select(OneLine).Distinct(StringComparer.Ordinal)];
        }
    }

    /// <summary>Writes the failures to standard error and returns the exit code to stop with, or null to go on.</summary>
    public static int? Refuse(IServiceProvider services, TextWriter error)
    {
        var failures = Failures(services);
        foreach (var failure in failures)
        {
            error.WriteLine($"sysext-functions: configuration: {failure}");
        }

        return failures.Count == 0 ? null : ConfigurationError;
    }

    private static IEnumerable<string> Flatten(Exception e) => e switch
    {
        AggregateException aggregate => aggregate.InnerExceptions.SelectMany(Flatten),
        OptionsValidationException validation => validation.Failures,
        // The binder's own message names the setting ("Failed to convert configuration value at 'Proxy:BlobDelivery'
        // to type …"); what it could not parse is in the inner exception, which we leave out.
        _ => [e.Message],
    };

    private static string OneLine(string text) => Registry.LogText.Escape(text.Trim());
}
