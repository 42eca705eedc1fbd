using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace SysextFunctions.Rollouts;

/// <summary>An interval during which a version's schedule stands still; open (<see cref="Until"/> null) while halted.</summary>
public sealed record RolloutPause(DateTimeOffset From, DateTimeOffset? Until);

/// <summary>What the policy says about one version: its pauses, whether it is promoted, its own steps.</summary>
public sealed record VersionPolicy(IReadOnlyList<RolloutPause> Pauses, bool Promote, RolloutSchedule? Steps);

/// <summary>
/// The rollout policy of a repository: a small JSON document pushed with <c>oras</c> under the reserved tag
/// <see cref="Tag"/>, so that halting, resuming or promoting a version takes effect within one listing on every
/// instance, with no restart. Format (every key optional; unknown keys are refused, so that a typo cannot pass for
/// a policy that does nothing):
/// <code>{"versions": {"v1.3": {"pauses": [{"from": "2026-12-03T10:00:00Z", "until": "…"}], "promote": false, "steps": "1%@0h,100%@1d"}}}</code>
/// </summary>
public sealed partial record RolloutPolicy(IReadOnlyDictionary<string, VersionPolicy> Versions)
{
    /// <summary>The reserved tag: <c>_</c> starts no version anybody pushes by accident, and it is never listed as one.</summary>
    public const string Tag = "_rollout";

    /// <summary>The media type of the policy's single layer (and of the file given to <c>oras push</c>).</summary>
    public const string MediaType = "application/vnd.sysext-functions.rollout.v1+json";

    /// <summary>Larger documents are refused unread: the policy of even a busy repository is a few hundred bytes.</summary>
    public const int MaxBytes = 64 * 1024;

    private const int MaxPauses = 100;

    public static RolloutPolicy Empty { get; } = new(new Dictionary<string, VersionPolicy>(StringComparer.Ordinal));

    public VersionPolicy? For(string version) => Versions.GetValueOrDefault(version);

    /// <summary>Parses and validates a policy document; <see cref="FormatException"/> with a one-line reason otherwise.</summary>
    public static RolloutPolicy Parse(ReadOnlySpan<byte> json)
    {
        if (json.Length > MaxBytes)
        {
            throw new FormatException($"larger than {MaxBytes / 1024} KiB");
        }

        PolicyDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, RolloutPolicyJsonContext.Default.PolicyDocument);
        }
        catch (JsonException e)
        {
            // The parser's own message names the place (line, byte), never more than a few bytes of the document.
            throw new FormatException($"not a rollout policy: {e.Message}");
        }

        if (document is null)
        {
            throw new FormatException("not a rollout policy: null");
        }

        var versions = new Dictionary<string, VersionPolicy>(StringComparer.Ordinal);
        foreach (var (version, entry) in document.Versions ?? [])
        {
            if (entry is null)
            {
                throw new FormatException($"version '{Shorten(version)}': null");
            }

            var pauses = new List<RolloutPause>();
            foreach (var pause in entry.Pauses ?? [])
            {
                var from = Time(pause?.From, version, "from") ?? throw new FormatException($"version '{Shorten(version)}': a pause needs 'from'");
                var until = Time(pause!.Until, version, "until");
                if (until <= from)
                {
                    throw new FormatException($"version '{Shorten(version)}': a pause ends ('until') after it starts ('from')");
                }

                pauses.Add(new RolloutPause(from, until));
            }

            if (pauses.Count > MaxPauses)
            {
                throw new FormatException($"version '{Shorten(version)}': more than {MaxPauses} pauses");
            }

            RolloutSchedule? steps = null;
            if (entry.Steps is not null && !RolloutSchedule.TryParse(entry.Steps, out steps, out var error))
            {
                throw new FormatException($"version '{Shorten(version)}': steps {error}");
            }

            versions[version] = new VersionPolicy(pauses, entry.Promote ?? false, steps);
        }

        return new RolloutPolicy(versions);
    }

    /// <summary>RFC 3339 with an explicit offset: a time without one would mean different moments to different readers.</summary>
    private static DateTimeOffset? Time(string? text, string version, string field)
    {
        if (text is null)
        {
            return null;
        }

        if (!Rfc3339().IsMatch(text) || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            throw new FormatException($"version '{Shorten(version)}': '{field}' is not an RFC 3339 time with an offset (2026-12-03T10:00:00Z)");
        }

        return time;
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";

    [GeneratedRegex(@"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();
}

internal sealed class PolicyDocument
{
    [JsonPropertyName("versions")]
    public Dictionary<string, VersionDocument?>? Versions { get; set; }
}

internal sealed class VersionDocument
{
    [JsonPropertyName("pauses")]
    public List<PauseDocument?>? Pauses { get; set; }

    [JsonPropertyName("promote")]
    public bool? Promote { get; set; }

    [JsonPropertyName("steps")]
    public string? Steps { get; set; }
}

internal sealed class PauseDocument
{
    [JsonPropertyName("from")]
    public string? From { get; set; }

    [JsonPropertyName("until")]
    public string? Until { get; set; }
}

[JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, MaxDepth = 8)]
[JsonSerializable(typeof(PolicyDocument))]
internal sealed partial class RolloutPolicyJsonContext : JsonSerializerContext;
