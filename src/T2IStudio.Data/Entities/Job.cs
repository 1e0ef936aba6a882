namespace T2IStudio.Data.Entities;

/// <summary>Where a job is in its life.</summary>
public enum JobStatus
{
    /// <summary>Waiting for a worker.</summary>
    Queued = 0,

    /// <summary>A worker is running it.</summary>
    Running = 1,

    /// <summary>Its images are stored.</summary>
    Completed = 2,

    /// <summary>It stopped with an error (<see cref="Job.Error"/>).</summary>
    Failed = 3,

    /// <summary>Its owner cancelled it.</summary>
    Canceled = 4,
}

/// <summary>One generation request on its way through the queue; the durable record of what was asked.</summary>
public sealed class Job : IOwnedResource
{
    /// <summary>The job's id, chosen by the server.</summary>
    public Guid Id { get; set; }

    /// <summary>Who asked for it; only they see it.</summary>
    public string OwnerId { get; set; } = "";

    /// <summary>The owner's account.</summary>
    public AppUser? Owner { get; set; }

    /// <summary>Where the job is now.</summary>
    public JobStatus Status { get; set; }

    /// <summary>The model id.</summary>
    public string Model { get; set; } = "";

    /// <summary>The prompt text, for lists (the full request is in <see cref="RequestJson"/>).</summary>
    public string Prompt { get; set; } = "";

    /// <summary>The whole request as the engine's stored-request JSON.</summary>
    public string RequestJson { get; set; } = "";

    /// <summary>Images the job makes.</summary>
    public int BatchSize { get; set; }

    /// <summary>Denoising steps the job takes.</summary>
    public int TotalSteps { get; set; }

    /// <summary>Steps finished in the current attempt.</summary>
    public int Step { get; set; }

    /// <summary>Output width in pixels.</summary>
    public int Width { get; set; }

    /// <summary>Output height in pixels.</summary>
    public int Height { get; set; }

    /// <summary>The client's key for one press of Generate: a repeated submit with the same key is the same job.</summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>Times a worker started it (a restart re-queues a running job once).</summary>
    public int Attempts { get; set; }

    /// <summary>When it was submitted (UTC); the queue is first-in-first-out by this within a user.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the last attempt started.</summary>
    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>When it completed, failed or was cancelled.</summary>
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Why it failed, in words for its owner.</summary>
    public string? Error { get; set; }

    /// <summary>Inpainting: the store key of the source image's PNG (a copy made at submit).</summary>
    public Guid? SourceFileKey { get; set; }

    /// <summary>Inpainting: the store key of the painted mask's PNG.</summary>
    public Guid? MaskFileKey { get; set; }

    /// <summary>Inpainting: the gallery image it started from (none for an upload).</summary>
    public Guid? ParentImageId { get; set; }

    /// <summary>The gallery its images go into ("Save to"), besides the owner's own images; null for none.</summary>
    public Guid? GalleryId { get; set; }

    /// <summary>The team whose gallery it saves into (and whose daily budget it draws on), fixed at submit; null otherwise.</summary>
    public Guid? TeamId { get; set; }

    /// <summary>The API token that submitted it; null for a job from the browser or the command line.</summary>
    public Guid? ApiTokenId { get; set; }

    /// <summary>The prompt-history entry this job used.</summary>
    public Guid? PromptId { get; set; }

    /// <summary>The current lease, while a worker holds the job; every report about it must name this.</summary>
    public Guid? LeaseId { get; set; }

    /// <summary>The worker holding the lease (its id as it announced it).</summary>
    public string? LeaseWorkerId { get; set; }

    /// <summary>When the lease runs out unless the worker beats; null for the in-process worker, whose lease ends with its process.</summary>
    public DateTimeOffset? LeaseExpiresAt { get; set; }

    /// <summary>The name of the worker that ran (or runs) the last attempt, for people.</summary>
    public string? WorkerName { get; set; }

    /// <summary>Its owner (or an admin) asked a running job to stop; the node that holds the worker's connection tells it.</summary>
    public bool CancelRequested { get; set; }

    /// <summary>Optimistic concurrency token (SQLite has no row version), replaced on every update.</summary>
    public Guid ConcurrencyStamp { get; set; } = Guid.NewGuid();

    /// <summary>The images it made.</summary>
    public List<GeneratedImage> Images { get; } = [];

    /// <summary>True once the job will not change again.</summary>
    public bool IsFinished => Status is JobStatus.Completed or JobStatus.Failed or JobStatus.Canceled;
}
