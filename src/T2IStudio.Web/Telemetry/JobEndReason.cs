using T2IStudio.Data.Entities;
using T2IStudio.Web.Jobs;

namespace T2IStudio.Web.Telemetry;

/// <summary>Why a job ended without images: the <c>reason</c> label of <c>t2i.job.failures</c>, a small fixed set.</summary>
public enum JobEndReason
{
    /// <summary>The worker or the pipeline failed it (an error, out of memory, an unreadable request or source).</summary>
    Failed,

    /// <summary>Two workers were lost under it (<see cref="JobLifecycle.LostTwiceError"/>).</summary>
    LostWorker,

    /// <summary>It ran past <c>Queue:MaxJobMinutes</c>.</summary>
    TimeLimit,

    /// <summary>The server stopped under it twice (<see cref="JobLifecycle.InterruptedError"/>).</summary>
    Interrupted,

    /// <summary>The worker's images failed the server's checks.</summary>
    RefusedImages,

    /// <summary>No node or worker has its model any more.</summary>
    ModelMissing,

    /// <summary>Stopped or cancelled, by its owner or an admin: an outcome, not a fault.</summary>
    Canceled,
}

/// <summary>The label values of <see cref="JobEndReason"/> and how a finished row's status and error map to one.</summary>
public static class JobEndReasons
{
    /// <summary>Every reason, in the order the Admin panel lists them.</summary>
    public static IReadOnlyList<JobEndReason> All { get; } = Enum.GetValues<JobEndReason>();

    // The lifecycle's messages, taken from the lifecycle itself so a reworded message still classifies.
    private static readonly string RefusedPrefix = PrefixOf(JobLifecycle.RefusedImagesError("\0"), '\0');
    private static readonly string TimeLimitPrefix = PrefixOf(JobLifecycle.TimeLimitError(7), '7');
    private static readonly string TimeLimitSuffix = JobLifecycle.TimeLimitError(7)[JobLifecycle.TimeLimitError(7).IndexOf(':', StringComparison.Ordinal)..];

    /// <summary>The label value: <c>failed</c>, <c>lost_worker</c>, <c>time_limit</c>, <c>interrupted</c>, <c>refused_images</c>, <c>model_missing</c>, <c>canceled</c>.</summary>
    public static string Label(JobEndReason reason) => reason switch
    {
        JobEndReason.LostWorker => "lost_worker",
        JobEndReason.TimeLimit => "time_limit",
        JobEndReason.Interrupted => "interrupted",
        JobEndReason.RefusedImages => "refused_images",
        JobEndReason.ModelMissing => "model_missing",
        JobEndReason.Canceled => "canceled",
        _ => "failed",
    };

    /// <summary>
    /// The reason a row that ended as <paramref name="status"/> with <paramref name="error"/> counts under; null when
    /// it did not end without images (queued, running, completed). A missing model is never read from a message: the
    /// sweep that fails those jobs names its reason itself.
    /// </summary>
    public static JobEndReason? Of(JobStatus status, string? error) => status switch
    {
        JobStatus.Canceled => JobEndReason.Canceled,
        JobStatus.Failed => error switch
        {
            JobLifecycle.InterruptedError => JobEndReason.Interrupted,
            JobLifecycle.LostTwiceError => JobEndReason.LostWorker,
            { } text when text.StartsWith(RefusedPrefix, StringComparison.Ordinal) => JobEndReason.RefusedImages,
            { } text when text.StartsWith(TimeLimitPrefix, StringComparison.Ordinal) && text.EndsWith(TimeLimitSuffix, StringComparison.Ordinal) => JobEndReason.TimeLimit,
            _ => JobEndReason.Failed,
        },
        _ => null,
    };

    private static string PrefixOf(string message, char marker) => message[..message.IndexOf(marker, StringComparison.Ordinal)];
}
