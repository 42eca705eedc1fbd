using SysextFunctions.Hosting;

// The same host the Functions project starts when no Functions host started it (Hosting/StandaloneHost.cs).
await StandaloneHost.Build(args).RunAsync();
