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
    await builder.Build().RunAsync();
}
else
{
    await StandaloneHost.Build(args).RunAsync();
}
