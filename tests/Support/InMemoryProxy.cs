using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SysextFunctions.Hosting;
using SysextFunctions.Http;
using SysextFunctions.Upstreams;

namespace SysextFunctions.Tests.Support;

/// <summary>
/// The whole composition (<see cref="ServiceCollectionExtensions.AddSysextProxy"/>) with the default upstream's
/// transport replaced by an in-memory registry and the clock by a <see cref="FakeClock"/>: requests run through
/// <see cref="SysextHandler"/> on a <see cref="DefaultHttpContext"/>, no sockets. Listings are made afresh on every
/// request (<c>Cache:ChecksumsTtl=0</c>) unless the settings say otherwise.
/// </summary>
internal sealed class InMemoryProxy : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public InMemoryProxy(HttpMessageHandler registry, FakeClock time, IDictionary<string, string?>? settings = null)
    {
        Time = time;
        var values = new Dictionary<string, string?>
        {
            ["Registry:Url"] = FakeRegistry.Url.ToString(),
            ["Cache:ChecksumsTtl"] = "00:00:00",
            // The fake clock jumps to short waits while requests run: timeouts far away, so that only the waits a
            // test is about elapse.
            ["Registry:Timeout"] = "01:00:00",
            ["Registry:Resilience:AttemptTimeout"] = "00:30:00",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration).AddSingleton<TimeProvider>(time).AddSysextProxy(configuration);
        services.AddHttpClient(UpstreamOptions.ClientName(UpstreamOptions.DefaultId)).ConfigurePrimaryHttpMessageHandler(() => new Shared(registry));
        _services = services.BuildServiceProvider();
    }

    public FakeClock Time { get; }

    public IServiceProvider Services => _services;

    /// <summary>GETs <paramref name="path"/>, moving the fake clock on while the request waits.</summary>
    public Task<HttpResponse> GetAsync(string path, string? accept = null, CancellationToken cancellationToken = default) =>
        Time.DriveAsync(RunAsync(path, accept, cancellationToken));

    private async Task<HttpResponse> RunAsync(string path, string? accept, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var context = new DefaultHttpContext { RequestServices = _services, RequestAborted = cancellationToken };
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = path;
        if (accept is not null)
        {
            context.Request.Headers.Accept = accept;
        }

        context.Response.Body = new MemoryStream();
        var result = await _services.GetRequiredService<SysextHandler>().HandleAsync(context);
        await result.ExecuteAsync(context);
        context.Response.Body.Position = 0;
        return context.Response;
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    /// <summary>The test's registry behind every handler the factory makes, never disposed by it.</summary>
    private sealed class Shared(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override void Dispose(bool disposing)
        {
            // The registry belongs to the test.
        }
    }
}

internal static class HttpResponseText
{
    public static string BodyText(this HttpResponse response) => new StreamReader(response.Body, leaveOpen: true).ReadToEnd();
}
