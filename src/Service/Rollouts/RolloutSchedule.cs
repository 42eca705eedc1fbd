using System.Globalization;
using System.Text.RegularExpressions;

namespace SysextFunctions.Rollouts;

/// <summary>One step of a schedule: from <see cref="Delay"/> after publishing, <see cref="Share"/> of the machines.</summary>
public sealed record RolloutStep(double Share, TimeSpan Delay);

/// <summary>
/// A rollout schedule as written in <c>Rollout:Steps</c> or a policy's <c>steps</c>: <c>5%@0h,25%@6h,50%@1d,100%@2d</c>.
/// Shares and delays rise strictly, shares are in (0,100], the last one is 100, so every version ends complete.
/// </summary>
public sealed partial class RolloutSchedule
{
    private RolloutSchedule(IReadOnlyList<RolloutStep> steps, string text)
    {
        Steps = steps;
        Text = text;
    }

    public IReadOnlyList<RolloutStep> Steps { get; }

    /// <summary>The schedule as it was written (without blanks).</summary>
    public string Text { get; }

    /// <summary>The share of the last step whose delay is at most <paramref name="elapsed"/>; 0 before the first.</summary>
    public double ShareAt(TimeSpan elapsed)
    {
        var share = 0.0;
        foreach (var step in Steps)
        {
            if (step.Delay > elapsed)
            {
                break;
            }

            share = step.Share;
        }

        return share;
    }

    /// <summary>The first step still ahead at <paramref name="elapsed"/>, or null when the last one is reached.</summary>
    public RolloutStep? NextAfter(TimeSpan elapsed) => Steps.FirstOrDefault(step => step.Delay > elapsed);

    /// <summary>The time at which the last step (100 %) is reached.</summary>
    public TimeSpan Completion => Steps[^1].Delay;

    public override string ToString() => Text;

    /// <summary>Parses a schedule; the error is a one-line reason without the setting's name (the caller adds it).</summary>
    public static bool TryParse(string? text, out RolloutSchedule? schedule, out string error)
    {
        schedule = null;
        error = "";
        if (string.IsNullOrEmpty(text) || text.Trim(' ').Length == 0)
        {
            error = "is empty";
            return false;
        }

        var steps = new List<RolloutStep>();
        var previous = 0.0;
        foreach (var part in text.Split(','))
        {
            // Blanks around a step are allowed; nothing else (a newline pasted into an app setting is refused).
            var match = StepPattern().Match(part.Trim(' '));
            if (!match.Success)
            {
                error = $"step '{Shorten(part.Trim())}' is not <share>%@<delay><m|h|d> (e.g. 5%@0h)";
                return false;
            }

            var share = double.Parse(match.Groups["share"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            var amount = int.Parse(match.Groups["delay"].Value, NumberStyles.None, CultureInfo.InvariantCulture);
            var delay = match.Groups["unit"].Value switch
            {
                "m" => TimeSpan.FromMinutes(amount),
                "h" => TimeSpan.FromHours(amount),
                _ => TimeSpan.FromDays(amount),
            };
            if (share <= 0 || share > 100)
            {
                error = $"step '{part.Trim()}': the share must be more than 0 % and at most 100 %";
                return false;
            }

            if (steps.Count > 0 && (share <= previous || delay <= steps[^1].Delay))
            {
                error = $"step '{part.Trim()}': shares and delays must rise from step to step";
                return false;
            }

            steps.Add(new RolloutStep(share / 100, delay));
            previous = share;
        }

        if (previous < 100)
        {
            error = "the last step must be 100%";
            return false;
        }

        schedule = new RolloutSchedule(steps, string.Join(',', text.Split(',').Select(p => p.Trim(' '))));
        return true;
    }

    /// <summary>Parses a schedule known to be valid (validated at start).</summary>
    public static RolloutSchedule Parse(string text) =>
        TryParse(text, out var schedule, out var error) ? schedule! : throw new FormatException(error);

    private static string Shorten(string text) => text.Length <= 32 ? text : text[..32] + "…";

    // At most 5 digits of delay (about 273 years in days): no overflow, no silly schedules.
    [GeneratedRegex(@"\A(?<share>[0-9]{1,3}(?:\.[0-9]{1,3})?)%@(?<delay>[0-9]{1,5})(?<unit>[mhd])\z", RegexOptions.CultureInvariant)]
    private static partial Regex StepPattern();
}
