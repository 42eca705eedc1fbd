using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using SysextFunctions.Hosting;
using SysextFunctions.Http;

if (FunctionsHostDetection.IsFunctionsHost(args))
{
    var builder = FunctionsApplication.CreateBuilder(args);
    // Outside the ASP.NET Core integration's middleware, which is added next: see ExecutedResultMiddleware.
    builder.UseMiddleware<ExecutedResultMiddleware>();
    builder.ConfigureFunctionsWebApplication();
    builder.Services.AddSysextProxy(builder.Configuration);
    builder.Services.AddSysextFunctionsTelemetry(builder.Configuration);
    var host = builder.Build();
    if (StartupCheck.Refuse(host.Services, Console.Error) is { } exitCode)
    {
        return exitCode;
    }

    await host.RunAsync();
}
else
{
    var app = StandaloneHost.Build(args);
    if (StartupCheck.Refuse(app.Services, Console.Error) is { } exitCode)
    {
        return exitCode;
    }

    await app.RunAsync();
}

return 0;
