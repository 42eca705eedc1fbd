using Microsoft.Extensions.Options;

namespace SysextFunctions.Rollouts;

/// <summary>What the plain path (no machine key) lists where a schedule applies.</summary>
public enum PlainPathListing
{
    /// <summary>Every version, as without rollouts: what a person updating by hand gets.</summary>
    All,

    /// <summary>Only versions offered to every machine.</summary>
    Complete,
}

/// <summary>
/// The <c>Rollout</c> section: the schedule new versions follow (per mapping: <c>Mappings:&lt;n&gt;:Rollout:Steps</c>),
/// the secret machine keys are hashed with, and what the plain path lists. Without <see cref="Steps"/> anywhere
/// nothing changes for anybody.
/// </summary>
public sealed class RolloutOptions
{
    public const string Section = "Rollout";

    /// <summary><c>5%@0h,25%@6h,50%@1d,100%@2d</c>: a share, <c>@</c>, a delay in m, h or d after publishing.</summary>
    public string? Steps { get; set; }

    /// <summary>The HMAC key machine keys are reduced with; the same on every instance (see docs/rollouts.md).</summary>
    public string? MachineKeySecret { get; set; }

    public PlainPathListing PlainPath { get; set; } = PlainPathListing.All;

    /// <summary>The global schedule, or null; validated at start by <see cref="RolloutOptionsValidation"/>.</summary>
    public RolloutSchedule? Schedule() => string.IsNullOrWhiteSpace(Steps) ? null : RolloutSchedule.Parse(Steps);
}

/// <summary>The <c>Rollout</c> part of a mapping: its own schedule, replacing <c>Rollout:Steps</c>.</summary>
public sealed class MappingRolloutOptions
{
    public string? Steps { get; set; }

    /// <summary>The schedule, or null; a <see cref="FormatException"/> names the setting below the mapping.</summary>
    public RolloutSchedule? Schedule() =>
        string.IsNullOrWhiteSpace(Steps) ? null
        : RolloutSchedule.TryParse(Steps, out var schedule, out var error) ? schedule
        : throw new FormatException($"Rollout:Steps {error}");
}

/// <summary>A schedule that cannot be read stops the start with the setting's name, rather than rolling out wrongly.</summary>
public sealed class RolloutOptionsValidation : IValidateOptions<RolloutOptions>
{
    public ValidateOptionsResult Validate(string? name, RolloutOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.Steps) && !RolloutSchedule.TryParse(options.Steps, out _, out var error))
        {
            return ValidateOptionsResult.Fail($"{RolloutOptions.Section}:{nameof(RolloutOptions.Steps)} {error}");
        }

        if (!Enum.IsDefined(options.PlainPath))
        {
            return ValidateOptionsResult.Fail($"{RolloutOptions.Section}:{nameof(RolloutOptions.PlainPath)} must be All or Complete");
        }

        return ValidateOptionsResult.Success;
    }
}
