using T2IStudio.Data.Entities;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Components.Jobs;

/// <summary>A job as the queue panel shows it; the page updates it from events.</summary>
public sealed class JobCardState
{
    /// <summary>The job.</summary>
    public required Guid Id { get; init; }

    /// <summary>Its prompt.</summary>
    public required string Prompt { get; init; }

    /// <summary>Images it makes.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Its size, as "W×H".</summary>
    public string Size { get; init; } = "";

    /// <summary>The model id.</summary>
    public string Model { get; init; } = "";

    /// <summary>Where it is.</summary>
    public JobStatus Status { get; set; }

    /// <summary>Steps finished.</summary>
    public int Step { get; set; }

    /// <summary>Steps it takes.</summary>
    public int TotalSteps { get; set; }

    /// <summary>Jobs ahead of it while it waits.</summary>
    public int? Position { get; set; }

    /// <summary>Estimated time to done.</summary>
    public TimeSpan? Eta { get; set; }

    /// <summary>The latest preview as a data URL.</summary>
    public string? PreviewUrl { get; set; }

    /// <summary>Why it failed.</summary>
    public string? Error { get; set; }

    /// <summary>Its images once done.</summary>
    public IReadOnlyList<Guid> ImageIds { get; set; } = [];

    /// <summary>Cancel was pressed and the worker has not stopped yet.</summary>
    public bool Stopping { get; set; }

    /// <summary>True while the job waits or runs.</summary>
    public bool IsActive => Status is JobStatus.Queued or JobStatus.Running;

    /// <summary>Progress in percent.</summary>
    public double Percent => TotalSteps == 0 ? 0 : 100.0 * Step / TotalSteps;

    /// <summary>Builds the card of a stored job.</summary>
    public static JobCardState From(JobView job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var card = new JobCardState
        {
            Id = job.Id,
            Prompt = job.Prompt,
            BatchSize = job.BatchSize,
            Size = $"{job.Width}×{job.Height}",
            Model = job.Model,
        };
        card.Apply(job);
        return card;
    }

    /// <summary>Takes the stored state (status, images, error) and the live standing.</summary>
    public void Apply(JobView job)
    {
        ArgumentNullException.ThrowIfNull(job);
        Status = job.Status;
        Step = job.Step;
        TotalSteps = job.TotalSteps;
        Error = job.Error;
        ImageIds = job.ImageIds;
        ApplyStanding(job.Standing);
    }

    /// <summary>
    /// Takes what a pushed event says about this job: start, progress and preview, place in line, its stored images
    /// (in batch order), failure, cancel.
    /// </summary>
    public void Apply(JobEvent jobEvent)
    {
        switch (jobEvent)
        {
            case JobStarted:
                Status = JobStatus.Running;
                Position = null;
                break;
            case JobProgress progress:
                Status = JobStatus.Running;
                Step = progress.Step;
                TotalSteps = progress.TotalSteps;
                if (progress.PreviewJpeg is { } jpeg)
                {
                    PreviewUrl = "data:image/jpeg;base64," + Convert.ToBase64String(jpeg);
                }
                break;
            case JobCompleted completed:
                Status = JobStatus.Completed;
                Step = TotalSteps;
                ImageIds = completed.ImageIds;
                PreviewUrl = null;
                Stopping = false;
                Position = null;
                Eta = null;
                break;
            case JobFailed failed:
                Status = JobStatus.Failed;
                Error = failed.Error;
                Stopping = false;
                break;
            case JobCanceled:
                Status = JobStatus.Canceled;
                Stopping = false;
                break;
            case JobStandingChanged standing when IsActive:
                ApplyStanding(standing.Standing);
                break;
            default:
                break;
        }
    }

    /// <summary>The worker running it (or that ran its last attempt), for the card's status line.</summary>
    public string? WorkerName { get; private set; }

    /// <summary>Waiting, and no connected worker has its model yet.</summary>
    public bool NoWorker { get; private set; }

    /// <summary>Takes the live place in line, estimate and worker.</summary>
    public void ApplyStanding(QueueStanding? standing)
    {
        if (standing is null)
        {
            Position = null;
            Eta = null;
            NoWorker = false;
            return;
        }
        Position = standing.Position;
        Eta = standing.Eta;
        WorkerName = standing.WorkerName ?? WorkerName;
        NoWorker = standing.NoWorker;
        if (standing.IsRunning)
        {
            Status = JobStatus.Running;
            Step = Math.Max(Step, standing.Step);
        }
    }
}
