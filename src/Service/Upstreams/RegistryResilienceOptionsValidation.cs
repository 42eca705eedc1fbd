using Microsoft.Extensions.Options;

namespace SysextFunctions.Upstreams;

/// <summary>
/// Checks <c>Registry:Resilience</c> at start against the ranges Polly enforces only when it builds a pipeline, which
/// is at the first registry request: out of range, every registry-backed request would fail instead of the start.
/// </summary>
public sealed class RegistryResilienceOptionsValidation : IValidateOptions<RegistryResilienceOptions>
{
    private static readonly TimeSpan HalfSecond = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    public ValidateOptionsResult Validate(string? name, RegistryResilienceOptions options) =>
        options.MaxRetries < 0 ? Fail("MaxRetries must not be negative")
        : options.RetryDelay < TimeSpan.Zero || options.RetryDelay > Day ? Fail("RetryDelay must be between 0 and one day")
        : options.AttemptTimeout < TimeSpan.FromMilliseconds(10) || options.AttemptTimeout > Day ? Fail("AttemptTimeout must be between 10 ms and one day")
        : options.BreakDuration < HalfSecond || options.BreakDuration > Day ? Fail("BreakDuration must be between 0.5 s and one day")
        : !(options.FailureRatio > 0 && options.FailureRatio <= 1) ? Fail("FailureRatio must be more than 0 and at most 1")
        : options.MinimumThroughput < 2 ? Fail("MinimumThroughput must be at least 2")
        : options.SamplingDuration < HalfSecond || options.SamplingDuration > Day ? Fail("SamplingDuration must be between 0.5 s and one day")
        : ValidateOptionsResult.Success;

    private static ValidateOptionsResult Fail(string reason) => ValidateOptionsResult.Fail($"{RegistryResilienceOptions.Section}:{reason}");
}
