using T2IStudio.Generation.Imaging;
using System.ComponentModel.DataAnnotations;

namespace T2IStudio.Web.Workers;

/// <summary>Remote GPU workers (section <c>Workers</c>).</summary>
public sealed record WorkersOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Workers";

    /// <summary>The shortest key accepted, in characters.</summary>
    public const int MinKeyLength = 32;

    /// <summary>
    /// Keys a worker may join with. The <c>/hubs/workers</c> hub is on when at least one key is set here, or an
    /// admin has created a named key on the Admin page.
    /// </summary>
    public IReadOnlyList<string> Keys { get; init; } = [];

    /// <summary>How often a worker beats while it runs a job.</summary>
    [Range(1, 300, ErrorMessage = "Workers:HeartbeatSeconds must be between 1 and 300.")]
    public int HeartbeatSeconds { get; init; } = 5;

    /// <summary>How long a lease lasts without a beat; then the job goes back in line.</summary>
    [Range(3, 3600, ErrorMessage = "Workers:LeaseSeconds must be between 3 and 3600.")]
    public int LeaseSeconds { get; init; } = 30;

    /// <summary>
    /// The largest image a remote worker may upload, in MiB; a bigger one is refused mid-stream. The default is the
    /// largest PNG the server itself can produce (<see cref="ImageLimits.StoredPngMegabytes"/>), so no image a
    /// worker may make is refused.
    /// </summary>
    [Range(1, 1024, ErrorMessage = "Workers:MaxImageMegabytes must be between 1 and 1024.")]
    public int MaxImageMegabytes { get; init; } = ImageLimits.StoredPngMegabytes;

    /// <summary>The most a remote worker may upload for one job, all images together, in MiB.</summary>
    [Range(1, 4096, ErrorMessage = "Workers:MaxDeliveryMegabytes must be between 1 and 4096.")]
    public int MaxDeliveryMegabytes { get; init; } = 256;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Keys.Any(k => string.IsNullOrWhiteSpace(k) || k.Trim().Length < MinKeyLength))
        {
            yield return new ValidationResult($"Every key in Workers:Keys must be at least {MinKeyLength} characters (make one with: openssl rand -hex 32).", [nameof(Keys)]);
        }
        if (LeaseSeconds <= HeartbeatSeconds * 2)
        {
            yield return new ValidationResult("Workers:LeaseSeconds must be more than twice Workers:HeartbeatSeconds, or one late beat loses a job.", [nameof(LeaseSeconds)]);
        }
    }
}
