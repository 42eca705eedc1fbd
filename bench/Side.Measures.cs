using System.Diagnostics;
using System.Globalization;

namespace SysextFunctions.Bench;

internal sealed partial class Side
{
    /// <summary>
    /// Brings every proxy to its steady state before anything is timed: "cold" in this bench means a listing no
    /// cache holds, not code the JIT has yet to compile. A fresh process spends more CPU in tiered compilation
    /// than in its first listings, for a minute of work or so on 2 cores; a long-running server has long left
    /// that behind. So each caching proxy lists 300 tags cold through each of its warm-up upstreams, each
    /// re-listing proxy lists them as often, and the background compiler is then given a moment to finish.
    /// </summary>
    private static async Task WarmUpAsync(HttpClient http, RegistryServer registry, LatencyRelay relay, ProxyProcess[] caching, ProxyProcess[] relisting)
    {
        for (var k = 1; k <= Proxy.WarmUpstreams; k++)
        {
            foreach (var proxy in caching)
            {
                await GetAsync(http, new Uri(proxy.Url, $"/warm{k}/warmup/SHA256SUMS"));
            }

            foreach (var proxy in relisting)
            {
                await GetAsync(http, new Uri(proxy.Url, "/bench/warmup/SHA256SUMS"));
            }
        }

        for (var i = 0; i < 3; i++)
        {
            await Baseline.ChecksumsAsync(http, registry.Url, "bench/warmup");
        }

        await Baseline.ChecksumsAsync(http, relay.Url, "bench/warmup");
        await Task.Delay(TimeSpan.FromSeconds(2));
    }

    /// <summary>
    /// The other physical limit: the registry's own CPU. It shares this machine's cores with everything else,
    /// so a listing cannot take less than its CPU seconds spread over all of them, however few round trips it
    /// needs. Prints it, and the best ratio this machine then allows; returns it for the table.
    /// </summary>
    private string RegistryFloor(int listings, int roundTrips, double baselineMs)
    {
        var perListing = _registryCpu / listings;
        var floorMs = perListing * 1000 / Environment.ProcessorCount;
        var best = baselineMs / Math.Max(floorMs, roundTrips * Rtt.TotalMilliseconds);
        Console.WriteLine($"     the registry's own CPU: {perListing * 1000:F0} ms per listing ({perListing * 1000 / (Tags + 1):F1} ms per request); on {Environment.ProcessorCount} cores no listing here takes less than {floorMs:F0} ms: at best {best:F1}× the baseline");
        return $"; registry CPU {floorMs:F0} ms";
    }

    /// <summary>(R) What each listing costs the registry, counted by a forwarder in front of it; not timed.</summary>
    private async Task RequestsAsync(RegistryServer registry)
    {
        Step($"(R) registry requests per listing of {Tags} tags: cold, re-listed unchanged, re-listed after one new tag (Cache:ChecksumsTtl=0)");
        await using var counter = await AcrFacade.StartAsync(registry.Url);
        using var http = OneConnection();
        var pages = (int)Math.Ceiling(Tags / 100.0);
        // The distribution API twice: asking about every tag (the default), and with Cache:TagRecheck, which trusts a
        // tag's digest for an hour once the registry named it (for registries whose tags are never re-pushed).
        foreach (var (mode, repository, recheck, suffix) in new[]
                 {
                     ("distribution", "bench/count1", "00:00:00", "'"),
                     ("acr", "bench/count2", "00:00:00", ""),
                     ("distribution", "bench/count3", "01:00:00", "''"),
                 })
        {
            await counter.PrimeAsync(repository);
            await using var proxy = await Proxy.StartAsync(counter.Url, ttl: "00:00:00", $"--Registry:TagListing={mode}", $"--Cache:TagRecheck={recheck}");
            var label = mode == "acr" ? "ACR _tags" : recheck == "00:00:00" ? "distribution API" : "distribution, TagRecheck 1 h";
            var counts = new List<int>();
            foreach (var step in new[] { "cold", "unchanged", "new tag" })
            {
                if (step == "new tag")
                {
                    await new OciPusher(registry.Url, http).PushSmallArtifactAsync(repository, "v9.0.0");
                    await counter.PrimeAsync(repository);
                }

                counter.Reset();
                await GetAsync(http, new Uri(proxy.Url, $"/{repository}/SHA256SUMS"));
                Console.WriteLine($"     {label}, {step}: {counter.Describe()}");
                counts.Add(counter.Total);
            }

            // A page is 100 tags for ACR's _tags; the distribution API's tags/list gives them all at once here.
            var newDigests = new[] { Tags, 0, 1 };
            var tagPages = mode == "acr" ? new[] { pages, pages, (int)Math.Ceiling((Tags + 1) / 100.0) } : [1, 1, 1];
            var labels = new[] { "cold", "unchanged", "after one new tag" };
            for (var i = 0; i < 3; i++)
            {
                var bound = newDigests[i] + tagPages[i];
                _rows.Add(suffix == "'"
                    ? new Row($"R{i + 1}'", $"registry requests, {labels[i]}", $"{counts[i]} ({label})", "no digests in its tag list", "", "", null)
                    : new Row($"R{i + 1}{suffix}", $"registry requests, {labels[i]}", $"{counts[i]} ({label})", $"{newDigests[i]} new digest{(newDigests[i] == 1 ? "" : "s")} + {tagPages[i]} page{(tagPages[i] == 1 ? "" : "s")}", "", $"≤ {bound}", counts[i] <= bound));
            }
        }
    }

    private async Task BlobAsync(Uri registry, ProxyProcess proxy, string digest)
    {
        await using var nginx = await Nginx.StartProxyAsync(registry);
        Step($"(3) a {BlobBytes >> 20} MiB blob: through the proxy (stream, digest checked) vs nginx proxy_pass of the same blob from the registry, 3 rounds each");
        var nginxRates = new List<double>();
        var proxied = new List<double>();
        long growth = 0;
        await DownloadAsync(new Uri(nginx.Url, $"/v2/bench/big/blobs/{digest}"));
        await DownloadAsync(new Uri(proxy.Url, "/bench/big/big-v1.raw"));
        for (var round = 0; round < 3; round++)
        {
            nginxRates.Add(await CpuAsync("nginx proxy_pass", proxy, () => DownloadAsync(new Uri(nginx.Url, $"/v2/bench/big/blobs/{digest}"))));

            var before = proxy.Process.RssBytes();
            var peak = before;
            using var stop = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    peak = Math.Max(peak, proxy.Process.RssBytes());
                    await Task.Delay(5, CancellationToken.None);
                }
            });
            proxied.Add(await CpuAsync("proxied blob", proxy, () => DownloadAsync(new Uri(proxy.Url, "/bench/big/big-v1.raw"))));
            await stop.CancelAsync();
            await sampler;
            growth = Math.Max(growth, peak - before);
        }

        var direct = await DownloadAsync(new Uri(registry, $"/v2/bench/big/blobs/{digest}"));
        Console.WriteLine($"     straight from the registry (sendfile, no proxy): {direct:F0} MiB/s");
        var (proxyRate, nginxRate) = (Median(proxied), Median(nginxRates));
        var growthMiB = growth / (1024.0 * 1024);
        Add("3", $"{BlobBytes >> 20} MiB blob throughput", $"{proxyRate:F0} MiB/s", $"{nginxRate:F0} MiB/s (nginx proxy_pass)", proxyRate / nginxRate, 0.9);
        _rows.Add(new Row("3b", "proxy RSS growth during the transfer", $"{growthMiB:F1} MiB", "", "", "≤ 64 MiB", growthMiB <= 64));
    }

    /// <summary>Downloads and discards, returning MiB/s; the same client code for both sides.</summary>
    private static async Task<double> DownloadAsync(Uri uri)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromMinutes(10) };
        var buffer = new byte[1 << 20];
        var watch = Stopwatch.StartNew();
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        if (total != BlobBytes)
        {
            throw new InvalidOperationException($"{uri} gave {total} bytes, not {BlobBytes}");
        }

        return BlobBytes / (1024.0 * 1024) / watch.Elapsed.TotalSeconds;
    }

    private async Task LoadAsync(ProxyProcess proxy, byte[] checksums)
    {
        await using var nginx = await Nginx.StartAsync("bench/cold1/SHA256SUMS", checksums);
        var tool = Load.Tool;
        Step($"(4) warm SHA256SUMS, {Clients} concurrent clients for {_loadSeconds} s with {tool}: the proxy vs nginx serving the same bytes as a file, 3 rounds each");
        var proxyRates = new List<double>();
        var nginxRates = new List<double>();
        for (var round = 0; round < 3; round++)
        {
            nginxRates.Add(await Load.RequestsPerSecondAsync(new Uri(nginx.Url, "/bench/cold1/SHA256SUMS"), Clients, _loadSeconds, checksums.Length));
            proxyRates.Add(await Load.RequestsPerSecondAsync(new Uri(proxy.Url, "/bench/cold1/SHA256SUMS"), Clients, _loadSeconds, checksums.Length));
        }

        var (proxyRps, nginxRps) = (Median(proxyRates), Median(nginxRates));
        Add("4", $"warm SHA256SUMS, {Clients} clients", $"{proxyRps:F0} req/s", $"{nginxRps:F0} req/s (nginx)", proxyRps / nginxRps, 0.5);
    }

    private void AddTimed(string id, string what, double ms, double baselineMs, string limit, double? target) =>
        _rows.Add(new Row(id, what, $"{ms:F0} ms", $"{baselineMs:F0} ms (baseline)", limit, Ratio(baselineMs / ms), Target(target), target is { } min ? baselineMs / ms >= min : null));

    private void Add(string id, string what, string proxy, string reference, double ratio, double? target) =>
        _rows.Add(new Row(id, what, proxy, reference, "", Ratio(ratio), Target(target), target is { } min ? ratio >= min : null));

    private static string Ratio(double ratio) => ratio.ToString(ratio >= 100 ? "F0" : "F2", CultureInfo.InvariantCulture) + "×";

    private static string Target(double? target) => target is { } t ? $"≥ {t.ToString(CultureInfo.InvariantCulture)}×" : "";

    private void Print()
    {
        string[] header = ["#", "measure", "proxy", "reference", "physical limit", "ratio", "target", "result"];
        var cells = _rows.Select(r => new[] { r.Id, r.What, r.Proxy, r.Reference, r.Limit, r.Ratio, r.Target, r.Pass switch { true => "pass", false => "FAIL", null => "" } }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, cells.Max(c => c[i].Length))).ToArray();
        string Line(string[] c) => "| " + string.Join(" | ", c.Select((x, i) => x.PadRight(widths[i]))) + " |";
        Console.WriteLine(Line(header));
        Console.WriteLine("| " + string.Join(" | ", widths.Select(w => new string('-', w))) + " |");
        foreach (var c in cells)
        {
            Console.WriteLine(Line(c));
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private sealed record Row(string Id, string What, string Proxy, string Reference, string Limit, string Ratio, string Target, bool? Pass)
    {
        public Row(string id, string what, string proxy, string reference, string ratio, string target, bool? pass)
            : this(id, what, proxy, reference, "", ratio, target, pass)
        {
        }
    }
}
