using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace SysextFunctions.Hosting;

/// <summary>The service's telemetry (<see cref="TelemetryServices"/>) as the Functions worker runs it.</summary>
public static class FunctionsTelemetry
{
    public static IServiceCollection AddSysextFunctionsTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var builder = services.AddSysextTelemetry(configuration, functionsWorker: true);
        if (TelemetryServices.Exports(configuration))
        {
            // Tells the host the worker sends its own telemetry, so worker logs are not exported twice; without an
            // exporter the host keeps doing it.
            builder.UseFunctionsWorkerDefaults();
        }

        return services;
    }
}
