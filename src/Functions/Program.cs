using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using SysextFunctions.Hosting;

if (FunctionsHostDetection.IsFunctionsHost(args))
{
    var builder = FunctionsApplication.CreateBuilder(args);
    builder.ConfigureFunctionsWebApplication();
    builder.Services.AddSysextProxy(builder.Configuration);
    builder.Services.AddSysextTelemetry(builder.Configuration, functionsWorker: true);
    await builder.Build().RunAsync();
}
else
{
    await StandaloneHost.Build(args).RunAsync();
}
