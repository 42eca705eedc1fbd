using SysextFunctions.Catalogue;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Http.Pages;

/// <summary>The page at <c>/</c> for browsers: what this server serves, each repository linked to its own page.</summary>
public static class IndexPage
{
    public static HtmlPage Create(ServedIndex index)
    {
        var html = new HtmlBuilder();
        html.Append($"<main>\n<h1>Sysext Functions</h1>\n")
            .Append($"<p>systemd-sysupdate sources from an OCI registry. For each repository: <code>/&lt;repository&gt;/</code> shows what it offers (JSON for programs), ")
            .Append($"<code>/&lt;repository&gt;/{SysupdatePath.ChecksumsName}</code> is what sysupdate reads, and <code>/&lt;repository&gt;/&lt;name&gt;{SysupdatePath.TransferExtension}</code> a transfer definition for it.</p>\n")
            .Append($"<h2>Repositories</h2>\n");

        if (index.Refusal is { } refusal)
        {
            html.Append($"<p>The registry does not list its repositories ({refusal}). Open <code>/&lt;repository&gt;/</code> by its name.</p>\n");
        }
        else if (index.Repositories.Count == 0 && index.Prefixes.Count == 0)
        {
            html.Append($"<p>No repositories.</p>\n");
        }

        if (index.Repositories.Count > 0 || index.Prefixes.Count > 0)
        {
            html.Append($"<ul>\n");
            foreach (var repository in index.Repositories)
            {
                html.Append($"<li><a href=\"/{repository}/\">{repository}</a></li>\n");
            }

            foreach (var prefix in index.Prefixes)
            {
                html.Append($"<li><code>{(prefix.Length == 0 ? "*" : prefix + "/*")}</code>: {(prefix.Length == 0 ? "any repository" : "any repository below " + prefix + "/")}, by its name</li>\n");
            }

            html.Append($"</ul>\n");
        }

        if (index.Truncated)
        {
            html.Append($"<p class=\"muted\">Only the first {ServedRepositories.MaxRepositories} repositories are shown.</p>\n");
        }

        html.Append($"</main>\n");
        return new HtmlPage("Sysext Functions", html.ToString());
    }
}
