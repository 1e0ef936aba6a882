using System.Collections;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Jobs;

namespace T2IStudio.Web.Components.Jobs;

/// <summary>
/// The cards a <see cref="JobQueuePanel"/> shows, newest first, and the rules of the list: one card per job,
/// finished cards beyond <see cref="KeepFinished"/> go (all of them at 0), a deleted image leaves every card.
/// </summary>
public sealed class JobCardList : IReadOnlyList<JobCardState>
{
    private readonly List<JobCardState> _cards = [];

    /// <summary>Finished cards kept below the active ones; 0 drops a card when its job ends.</summary>
    public int KeepFinished { get; set; } = 10;

    /// <inheritdoc />
    public int Count => _cards.Count;

    /// <inheritdoc />
    public JobCardState this[int index] => _cards[index];

    /// <summary>The cards of jobs that wait or run.</summary>
    public IReadOnlyList<JobCardState> Active => [.. _cards.Where(c => c.IsActive)];

    /// <summary>The card of <paramref name="jobId"/>, if the list has one.</summary>
    public JobCardState? Find(Guid jobId) => _cards.FirstOrDefault(c => c.Id == jobId);

    /// <summary>Puts a job on top (a new one), or returns its card if it already has one.</summary>
    public JobCardState AddNewest(JobView job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (Find(job.Id) is { } card)
        {
            return card;
        }
        card = JobCardState.From(job);
        _cards.Insert(0, card);
        return card;
    }

    /// <summary>Appends jobs read newest first (the first load).</summary>
    public void AddRange(IEnumerable<JobView> jobs)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        _cards.AddRange(jobs.Where(j => Find(j.Id) is null).Select(JobCardState.From));
    }

    /// <summary>Drops every card.</summary>
    public void Clear() => _cards.Clear();

    /// <summary>Drops the oldest finished cards beyond <see cref="KeepFinished"/>.</summary>
    public void Trim()
    {
        if (KeepFinished <= 0)
        {
            _cards.RemoveAll(c => !c.IsActive);
            return;
        }
        while (_cards.Count(c => !c.IsActive) > KeepFinished)
        {
            _cards.Remove(_cards.Last(c => !c.IsActive));
        }
    }

    /// <summary>Takes a deleted image off the cards that showed it.</summary>
    public void RemoveImage(Guid imageId)
    {
        foreach (var card in _cards.Where(c => c.ImageIds.Contains(imageId)))
        {
            card.ImageIds = [.. card.ImageIds.Where(i => i != imageId)];
        }
    }

    /// <summary>Images of the completed jobs, newest first.</summary>
    public IReadOnlyList<Guid> CompletedImages(int max) =>
        [.. _cards.Where(c => c.Status == JobStatus.Completed).SelectMany(c => c.ImageIds).Take(max)];

    /// <inheritdoc />
    public IEnumerator<JobCardState> GetEnumerator() => _cards.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
