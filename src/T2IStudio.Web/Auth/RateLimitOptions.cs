using System.ComponentModel.DataAnnotations;

namespace T2IStudio.Web.Auth;

/// <summary>
/// Limits on the account forms (section <c>RateLimits</c>). Each is counted per client address and per account
/// (the email the form names); past either, the request is answered 429 with <c>Retry-After</c>.
/// </summary>
public sealed record RateLimitOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RateLimits";

    /// <summary>Sign-in attempts one address may post in a minute.</summary>
    [Range(1, 100_000, ErrorMessage = "RateLimits:SignInPerMinutePerAddress must be between 1 and 100000.")]
    public int SignInPerMinutePerAddress { get; init; } = 30;

    /// <summary>Sign-in attempts for one email in a minute, from any address.</summary>
    [Range(1, 100_000, ErrorMessage = "RateLimits:SignInPerMinutePerAccount must be between 1 and 100000.")]
    public int SignInPerMinutePerAccount { get; init; } = 10;

    /// <summary>Registration attempts one address may post in an hour.</summary>
    [Range(1, 100_000, ErrorMessage = "RateLimits:RegisterPerHourPerAddress must be between 1 and 100000.")]
    public int RegisterPerHourPerAddress { get; init; } = 30;

    /// <summary>Registration attempts for one email in an hour, from any address.</summary>
    [Range(1, 100_000, ErrorMessage = "RateLimits:RegisterPerHourPerAccount must be between 1 and 100000.")]
    public int RegisterPerHourPerAccount { get; init; } = 10;
}
