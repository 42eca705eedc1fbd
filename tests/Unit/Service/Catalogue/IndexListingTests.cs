using SysextFunctions.Tests.Support;

namespace SysextFunctions.Tests.Unit.Service.Catalogue;

/// <summary>
/// The browser index (<c>GET /</c>) over a registry's <c>_catalog</c>: sorted whatever order the registry sends, and
/// saying so when the registry's list may be incomplete (it ignores <c>last</c> and sends no <c>Link</c>).
/// </summary>
public class IndexListingTests
{
    private const string Browser = "text/html,application/xhtml+xml";

    private static FakeRegistry Registry(bool ignoresLast)
    {
        var registry = new FakeRegistry { SendsLink = false, IgnoresLast = ignoresLast, Shuffles = ignoresLast };
        for (var i = 0; i < 250; i++)
        {
            registry.Create($"repo{i:D3}");
        }

        return registry;
    }

    private static List<string> Listed(string html) =>
        [.. System.Text.RegularExpressions.Regex.Matches(html, "<li><a href=\"/([^\"]+)/\">").Select(m => m.Groups[1].Value)];

    [Fact]
    public async Task Index_RegistryIgnoresLastInRandomOrder_SortedAndSaysIncomplete()
    {
        await using var proxy = new InMemoryProxy(Registry(ignoresLast: true), new FakeClock());

        var page = (await proxy.GetAsync("/", Browser)).BodyText();

        var listed = Listed(page);
        Assert.Equal(100, listed.Count);
        Assert.Equal(listed.Order(StringComparer.Ordinal), listed);
        Assert.Contains("may be incomplete", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Index_RegistryPagesByNWithoutLink_EveryRepositorySortedNoNotice()
    {
        await using var proxy = new InMemoryProxy(Registry(ignoresLast: false), new FakeClock());

        var page = (await proxy.GetAsync("/", Browser)).BodyText();

        Assert.Equal(Enumerable.Range(0, 250).Select(i => $"repo{i:D3}"), Listed(page));
        Assert.DoesNotContain("may be incomplete", page, StringComparison.Ordinal);
    }
}
