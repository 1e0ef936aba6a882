using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Workers;

namespace T2IStudio.Web.Jobs;

/// <summary>The work a job asks for: what its time estimate is made of.</summary>
/// <param name="Model">The model id.</param>
/// <param name="Steps">Denoising steps.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="BatchSize">Images.</param>
/// <param name="Guided">Classifier-free guidance doubles the UNet batch.</param>
public sealed record JobShape(string Model, int Steps, int Width, int Height, int BatchSize, bool Guided)
{
    /// <summary>UNet work per step, in megapixel-images.</summary>
    public double WorkPerStep => Width * (double)Height * BatchSize * (Guided ? 2 : 1) / 1e6;
}

/// <summary>A job waiting or running, as the order and the estimates see it.</summary>
/// <param name="Id">The job.</param>
/// <param name="OwnerId">Whose it is.</param>
/// <param name="Model">Its model.</param>
/// <param name="Shape">Its work.</param>
/// <param name="CreatedAt">Submitted.</param>
/// <param name="Step">Steps finished (running jobs, as last recorded).</param>
/// <param name="WorkerName">The worker running it, if one is.</param>
/// <param name="GalleryId">The gallery it saves into, if any (its team follows it too).</param>
/// <param name="Upscaler">The worker model (<c>upscaler:ID</c>) a hires fix also needs, if any.</param>
public sealed record QueuedJob(Guid Id, string OwnerId, string Model, JobShape Shape, DateTimeOffset CreatedAt, int Step, string? WorkerName, Guid? GalleryId = null, string? Upscaler = null)
{
    /// <summary>Whether a worker announcing <paramref name="models"/> can run it: its model, and a hires fix's upscaler too.</summary>
    public bool RunsOn(IReadOnlySet<string> models) =>
        models.Contains(Model) && (Upscaler is null || models.Contains(Upscaler));
}

/// <summary>
/// The order waiting jobs run in, decided from the database so every node and every worker agrees and it
/// survives restarts: round-robin across people, first in first out within a person. A person's turn comes
/// by when they were last served (their latest job start) or, if later, when their oldest waiting job was
/// submitted; so a newcomer takes the last turn of the current round, and one person's thousand jobs delay
/// another's first job by at most one job. A job whose worker was lost keeps its submit time and so runs
/// first of its owner's line.
/// </summary>
public sealed record FairOrder(IReadOnlyList<QueuedJob> Waiting, IReadOnlyList<QueuedJob> Running)
{
    /// <summary>Reads the queue and orders it.</summary>
    public static async Task<FairOrder> ReadAsync(IDbContextFactory<AppDbContext> dbFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dbFactory);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.Jobs.AsNoTracking()
            .Where(j => j.Status == JobStatus.Queued || j.Status == JobStatus.Running)
            .Select(j => new { j.Id, j.OwnerId, j.Status, j.Model, j.TotalSteps, j.Width, j.Height, j.BatchSize, j.RequestJson, j.CreatedAt, j.Step, j.WorkerName, j.GalleryId })
            .ToListAsync(cancellationToken);
        var jobs = rows.Select(r =>
        {
            var stored = GenerationMetadata.ReadStoredRequest(r.RequestJson);
            var upscaler = stored?.Hires?.Upscaler is { } id ? WorkerModels.ForUpscaler(id) : null;
            return (r.Status, Job: new QueuedJob(r.Id, r.OwnerId, r.Model,
                new JobShape(r.Model, r.TotalSteps, r.Width, r.Height, r.BatchSize, (stored?.GuidanceScale ?? 0) > 1),
                r.CreatedAt, r.Step, r.WorkerName, r.GalleryId, upscaler));
        }).ToList();
        var waiting = jobs.Where(j => j.Status == JobStatus.Queued).Select(j => j.Job).ToList();
        var running = jobs.Where(j => j.Status == JobStatus.Running).Select(j => j.Job).OrderBy(j => j.CreatedAt).ToList();
        if (waiting.Count == 0)
        {
            return new FairOrder([], running);
        }
        var owners = waiting.Select(j => j.OwnerId).Distinct(StringComparer.Ordinal).ToList();
        var lastServed = (await db.Jobs.AsNoTracking()
                .Where(j => owners.Contains(j.OwnerId) && j.StartedAt != null)
                .GroupBy(j => j.OwnerId)
                .Select(g => new { Owner = g.Key, Last = g.Max(j => j.StartedAt) })
                .ToListAsync(cancellationToken))
            .ToDictionary(x => x.Owner, x => x.Last, StringComparer.Ordinal);
        return new FairOrder(Arrange(waiting, owner => lastServed.GetValueOrDefault(owner)), running);
    }

    /// <summary>
    /// Orders <paramref name="waiting"/>: owners take turns (by <see cref="FairOrder"/>'s rule, ties by id), and in
    /// round r each owner with more than r jobs runs their r-th oldest.
    /// </summary>
    public static IReadOnlyList<QueuedJob> Arrange(IEnumerable<QueuedJob> waiting, Func<string, DateTimeOffset?> lastServed)
    {
        ArgumentNullException.ThrowIfNull(waiting);
        ArgumentNullException.ThrowIfNull(lastServed);
        var lines = waiting
            .GroupBy(j => j.OwnerId, StringComparer.Ordinal)
            .Select(g =>
            {
                var line = g.OrderBy(j => j.CreatedAt).ThenBy(j => j.Id).ToList();
                var served = lastServed(g.Key);
                var turn = served is { } s && s > line[0].CreatedAt ? s : line[0].CreatedAt;
                return (Turn: turn, Owner: g.Key, Line: line);
            })
            .OrderBy(l => l.Turn).ThenBy(l => l.Owner, StringComparer.Ordinal)
            .Select(l => l.Line)
            .ToList();
        var order = new List<QueuedJob>();
        var total = lines.Sum(l => l.Count);
        for (var round = 0; order.Count < total; round++)
        {
            foreach (var line in lines)
            {
                if (round < line.Count)
                {
                    order.Add(line[round]);
                }
            }
        }
        return order;
    }

    /// <summary>The estimate inputs of a stored job.</summary>
    public static JobShape ShapeOf(Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var guidance = GenerationMetadata.ReadStoredRequest(job.RequestJson)?.GuidanceScale ?? 0;
        return new JobShape(job.Model, job.TotalSteps, job.Width, job.Height, job.BatchSize, guidance > 1);
    }
}
