using System.Globalization;
using SysextFunctions.Catalogue;
using SysextFunctions.Sysupdate;

namespace SysextFunctions.Http.Pages;

/// <summary>
/// The page at <c>/&lt;repository&gt;/</c>: each version with its files per architecture (size, digest, date), what
/// vouches for them, and the transfer definition to copy. Links are relative to the page, so they stay right under
/// any host name or path base.
/// </summary>
public static class RepositoryPage
{
    private const int ShortDigest = 12;

    public static HtmlPage Create(RepositoryCatalogue catalogue, Uri repositoryUrl, string transfer)
    {
        var name = catalogue.Name;
        var versions = catalogue.Versions;
        var html = new HtmlBuilder();
        html.Append($"<header><a href=\"/\">Sysext Functions</a></header>\n<main>\n<h1>{catalogue.Repository}</h1>\n")
            .Append($"<p class=\"muted\">{Count(catalogue.Files.Count, "file")} in {Count(versions.Count, "version")} · ")
            .Append($"<a href=\"{SysupdatePath.ChecksumsName}\">{SysupdatePath.ChecksumsName}</a> · <a href=\"{name + SysupdatePath.TransferExtension}\">{name + SysupdatePath.TransferExtension}</a></p>\n");

        html.Append($"<p>List signature: ");
        if (catalogue.ListSigned)
        {
            html.Append($"<span class=\"badge yes\">signed</span> SHA256SUMS comes with an OpenPGP signature (<a href=\"SHA256SUMS.gpg\">SHA256SUMS.gpg</a>, <a href=\"SHA256SUMS.asc\">armored</a>): <code>Verify=yes</code> works with this server's public key.</p>\n");
        }
        else
        {
            html.Append($"<span class=\"badge no\">not signed</span> this server has no signing key: use <code>Verify=no</code>.</p>\n");
        }

        html.Append($"<p>Publisher signatures: {catalogue.Publisher ?? "not checked here."}</p>\n");
        AppendRollout(html, catalogue.Rollout);

        html.Append($"<h2>Versions</h2>\n");
        if (versions.Count == 0)
        {
            html.Append($"<p>No usable tag yet: a sysext is a tag with exactly one layer, or an index of such images.</p>\n");
        }

        foreach (var version in versions)
        {
            var first = version.First();
            var created = version.Select(f => f.Created).Max();
            html.Append($"<section class=\"version\">\n<h3>{version.Key}</h3>\n");
            if (created is not null || first.Description is not null)
            {
                html.Append($"<p class=\"muted\">");
                if (created is { } date)
                {
                    html.Append($"created <time datetime=\"{date.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}\">{date.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC</time>");
                }

                if (version.FirstOrDefault(f => f.Description is not null)?.Description is { } description)
                {
                    html.Append($"{(created is null ? "" : " · ")}{description}");
                }

                html.Append($"</p>\n");
            }

            AppendVersionRollout(html, catalogue.Rollout?.For(version.Key));
            html.Append($"<ul class=\"files\">\n");
            foreach (var file in version)
            {
                var digest = file.Digest.ToString();
                html.Append($"<li><span class=\"arch\">{file.Architecture ?? "any"}</span> <a href=\"{file.Name}\">{file.Name}</a><br>\n")
                    .Append($"<span class=\"muted\">{Size(file.Size)} · tag {file.Tag}</span>\n")
                    .Append($"<details><summary><code title=\"{digest}\">{digest[..Math.Min(digest.Length, file.Digest.Algorithm.Length + 1 + ShortDigest)]}…</code></summary><code class=\"all\">{digest}</code></details></li>\n");
            }

            html.Append($"</ul>\n</section>\n");
        }

        var saveAs = $"/etc/sysupdate.d/50-{name}";
        html.Append($"<h2>Use it with systemd-sysupdate</h2>\n")
            .Append($"<p>Save as <code>{saveAs}.transfer</code> (systemd 257 and later) or <code>{saveAs}.conf</code> (older), then run <code>systemd-sysupdate list</code> and <code>update</code>:</p>\n")
            .Append($"<pre>{transfer}</pre>\n")
            .Append($"<p>Or download it, and make the directories sysupdate does not create:</p>\n")
            .Append($"<pre>mkdir -p /etc/sysupdate.d\ncurl -fsSo {saveAs}.conf {new Uri(repositoryUrl, name + SysupdatePath.TransferExtension).AbsoluteUri}\n{TransferDefinition.Setup(name)}</pre>\n")
            .Append($"<p class=\"muted\">For programs: this URL with <code>Accept: application/json</code>.</p>\n</main>\n");
        return new HtmlPage($"{catalogue.Repository} · Sysext Functions", html.ToString());
    }

    private static void AppendRollout(HtmlBuilder html, Rollouts.RepositoryRollout? rollout)
    {
        if (rollout is null)
        {
            return;
        }

        html.Append($"<p>Phased rollout: new versions follow <code>{rollout.Schedule.Text}</code> (share of machines @ time since publishing). Policy (<code>{Rollouts.RolloutPolicy.Tag}</code>): ");
        if (rollout.PolicyFailed)
        {
            html.Append($"<span class=\"badge no\">refused</span> {rollout.Policy}. Every rollout in progress is frozen until the policy can be read.</p>\n");
        }
        else
        {
            html.Append($"{(rollout.Policy == Rollouts.RepositoryRollout.PolicyOk ? "in force" : "none")}.</p>\n");
        }
    }

    private static void AppendVersionRollout(HtmlBuilder html, Rollouts.VersionRollout? state)
    {
        if (state is null)
        {
            return;
        }

        html.Append($"<p class=\"rollout\">");
        if (!state.Phased)
        {
            html.Append($"<span class=\"badge no\">no publish date</span> not phased: offered to every machine.</p>\n");
            return;
        }

        if (state.Promoted)
        {
            html.Append($"<span class=\"badge yes\">promoted</span> offered to every machine.</p>\n");
            return;
        }

        html.Append($"{(state.Complete ? "rolled out: offered to every machine" : $"offered to {Percent(state.Share)} of machines")}");
        if (state.Halted)
        {
            html.Append($" · <span class=\"badge no\">halted</span>");
        }

        if (state.Next is { } next)
        {
            html.Append($" · next {Percent(next.Share)}");
            if (next.At is { } at)
            {
                html.Append($" at <time datetime=\"{at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}\">{at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC</time>");
            }
        }

        html.Append($"</p>\n");
    }

    private static string Percent(double share) => (share * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";

    /// <summary>Sizes in binary units with one decimal, as <c>ls -lh</c> and most file managers show them.</summary>
    public static string Size(long bytes)
    {
        string[] units = ["KiB", "MiB", "GiB", "TiB"];
        if (bytes < 1024)
        {
            return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        }

        var value = (double)bytes;
        var unit = -1;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    private static string Count(int count, string noun) => $"{count.ToString(CultureInfo.InvariantCulture)} {noun}{(count == 1 ? "" : "s")}";
}
