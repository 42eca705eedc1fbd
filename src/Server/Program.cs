using SysextFunctions.Hosting;

// The same host the Functions project starts when no Functions host started it (Hosting/StandaloneHost.cs).
var app = StandaloneHost.Build(args);
if (StartupCheck.Refuse(app.Services, Console.Error) is { } exitCode)
{
    return exitCode;
}

await app.RunAsync();
return 0;
