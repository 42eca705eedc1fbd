using Microsoft.Extensions.Options;
using SysextFunctions.Registry;

namespace SysextFunctions.Upstreams;

/// <summary>The <c>Registry:Listing</c> configuration section: limits on one listing of any upstream registry (<see cref="ListingLimits"/>).</summary>
public sealed class ListingOptions
{
    public const string Section = "Registry:Listing";

    /// <summary>The most tags (or repositories, or referrers) one listing may have; a listing with more is refused (502).</summary>
    public int MaxTags { get; set; } = ListingLimits.Default.MaxTags;

    /// <summary>The most bytes of pages one listing may read; a listing with more is refused (502).</summary>
    public long MaxBytes { get; set; } = ListingLimits.Default.MaxBytes;

    /// <summary>The longest one listing may take, all pages together; a listing that takes longer is given up on (504).</summary>
    public TimeSpan MaxDuration { get; set; } = ListingLimits.Default.MaxDuration;

    public ListingLimits Limits => new(MaxTags, MaxBytes, MaxDuration);
}

public sealed class ListingOptionsValidation : IValidateOptions<ListingOptions>
{
    public ValidateOptionsResult Validate(string? name, ListingOptions options) =>
        options.MaxTags > 0 && options.MaxBytes > 0 && options.MaxDuration > TimeSpan.Zero
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{ListingOptions.Section}:MaxTags, :MaxBytes and :MaxDuration must be positive");
}
