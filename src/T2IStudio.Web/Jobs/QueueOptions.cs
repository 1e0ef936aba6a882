using System.ComponentModel.DataAnnotations;

namespace T2IStudio.Web.Jobs;

/// <summary>The generation queue's limits (section <c>Queue</c>).</summary>
public sealed record QueueOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Queue";

    /// <summary>Jobs one person may have waiting or running at once.</summary>
    [Range(1, 10_000)]
    public int MaxQueuedPerUser { get; init; } = 20;

    /// <summary>Jobs one API token may have waiting or running at once (within its owner's <see cref="MaxQueuedPerUser"/>).</summary>
    [Range(1, 10_000, ErrorMessage = "Queue:MaxQueuedPerToken must be between 1 and 10000.")]
    public int MaxQueuedPerToken { get; init; } = 10;

    /// <summary>Runs the in-process worker; false for a web-only node.</summary>
    public bool RunWorker { get; init; } = true;

    /// <summary>
    /// The longest one job may run, in minutes, before the worker stops it and marks it failed (0: no limit).
    /// A stuck model run otherwise holds the device and its owner's quota slot for ever.
    /// </summary>
    [Range(0, 10_080, ErrorMessage = "Queue:MaxJobMinutes must be between 0 (no limit) and 10080 (a week).")]
    public int MaxJobMinutes { get; init; } = 30;

    /// <summary>The per-job time limit, or null when there is none.</summary>
    public TimeSpan? JobTimeLimit => MaxJobMinutes > 0 ? TimeSpan.FromMinutes(MaxJobMinutes) : null;
}
