using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Tests.Infrastructure;

/// <summary>Collects a user's job events and waits for a particular one (with a generous safety deadline, not a timing assertion).</summary>
public sealed class JobWaiter : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);
    private readonly List<StudioEvent> _events = [];
    private readonly List<(Func<StudioEvent, bool> Match, TaskCompletionSource<StudioEvent> Done)> _waits = [];
    private readonly IDisposable _subscription;

    public JobWaiter(IServiceProvider services, string userId)
    {
        _subscription = services.GetRequiredService<StudioNotifier>().Subscribe(userId, e =>
        {
            lock (_events)
            {
                _events.Add(e);
                foreach (var wait in _waits.Where(w => w.Match(e)).ToList())
                {
                    wait.Done.TrySetResult(e);
                    _waits.Remove(wait);
                }
            }
            return Task.CompletedTask;
        });
    }

    /// <summary>Every event so far, in arrival order.</summary>
    public IReadOnlyList<StudioEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>The first event (past or future) of <paramref name="jobId"/> of type <typeparamref name="T"/>.</summary>
    public async Task<T> WaitForAsync<T>(Guid jobId, Func<T, bool>? where = null) where T : JobEvent
    {
        bool Match(StudioEvent e) => e is T typed && typed.JobId == jobId && (where?.Invoke(typed) ?? true);
        TaskCompletionSource<StudioEvent> done;
        lock (_events)
        {
            if (_events.FirstOrDefault(Match) is { } seen)
            {
                return (T)seen;
            }
            done = new TaskCompletionSource<StudioEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waits.Add((Match, done));
        }
        return (T)await done.Task.WaitAsync(Deadline);
    }

    /// <summary>
    /// Waits until the job rows satisfy <paramref name="done"/>: checks now, then again after each event of
    /// <paramref name="userId"/>'s jobs (for a host whose worker may have finished before anyone could subscribe).
    /// </summary>
    public static async Task WaitForRowsAsync(IServiceProvider services, string userId, Func<IReadOnlyList<T2IStudio.Data.Entities.Job>, bool> done)
    {
        var factory = services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<T2IStudio.Data.AppDbContext>>();
        using var changed = new SemaphoreSlim(0);
        using var subscription = services.GetRequiredService<StudioNotifier>().Subscribe(userId, e =>
        {
            if (e is JobCompleted or JobFailed or JobCanceled or JobStarted or JobQueued)
            {
                changed.Release();
            }
            return Task.CompletedTask;
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            await using (var db = await factory.CreateDbContextAsync())
            {
                var jobs = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(db.Jobs);
                if (done(jobs))
                {
                    return;
                }
                var left = Deadline - clock.Elapsed;
                if (left <= TimeSpan.Zero || !await changed.WaitAsync(left))
                {
                    throw new TimeoutException("Jobs never reached the expected state: " + string.Join(", ", jobs.Select(j => $"{j.Id}={j.Status}/{j.Attempts}/{j.Error}")));
                }
            }
        }
    }

    public void Dispose() => _subscription.Dispose();
}
