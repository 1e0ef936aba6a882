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

    /// <summary>Runs the in-process worker; false for a web-only node.</summary>
    public bool RunWorker { get; init; } = true;
}
