using System.ComponentModel.DataAnnotations;

namespace T2IStudio.Web.Api;

/// <summary>The API's limits (section <c>Api</c>). The per-token queue limit is <c>Queue:MaxQueuedPerToken</c>.</summary>
public sealed record ApiOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Api";

    /// <summary>Requests one token may make in a minute (every route of <c>/api/v1</c> and <c>/sdapi/v1</c>).</summary>
    [Range(1, 1_000_000, ErrorMessage = "Api:RequestsPerMinutePerToken must be between 1 and 1000000.")]
    public int RequestsPerMinutePerToken { get; init; } = 300;

    /// <summary>
    /// API requests one client address may make in a minute, whatever tokens it sends (made-up ones included).
    /// Several people behind one proxy share it: set <c>Network:KnownProxies</c> so their own addresses count.
    /// </summary>
    [Range(1, 10_000_000, ErrorMessage = "Api:RequestsPerMinutePerAddress must be between 1 and 10000000.")]
    public int RequestsPerMinutePerAddress { get; init; } = 1200;

    /// <summary>
    /// Requests carrying a picture (img2img, inpaint) one token may have in flight at once; more answer 429. The intake
    /// decodes two pictures at a time for the whole server, so one script must not queue dozens behind it.
    /// </summary>
    [Range(1, 64, ErrorMessage = "Api:ConcurrentUploadsPerToken must be between 1 and 64.")]
    public int ConcurrentUploadsPerToken { get; init; } = 2;

    /// <summary>
    /// The largest request body in bytes. An A1111 <c>img2img</c> carries its image and mask as base64 (4/3 of the
    /// upload limit each), so the default leaves room for a 10 MB picture and its mask.
    /// </summary>
    [Range(1024, 256L * 1024 * 1024, ErrorMessage = "Api:MaxRequestBytes must be between 1024 and 268435456.")]
    public long MaxRequestBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>Tokens one person may hold (not revoked, not expired) at once.</summary>
    [Range(1, 10_000, ErrorMessage = "Api:MaxTokensPerUser must be between 1 and 10000.")]
    public int MaxTokensPerUser { get; init; } = 50;
}
