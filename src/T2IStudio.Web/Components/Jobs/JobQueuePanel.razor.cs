// One piece on purpose (≈210 lines of code; the rest is the documented parameters): the subscription, adopting a job,
// the catch-up and cancel all change the same cards on the renderer's thread. The list's own rules are JobCardList.
using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Components.Jobs;

/// <summary>
/// The one job queue panel (Create, Inpaint and the gallery pages): a card per job with live progress, previews,
/// place in line and estimate, all from pushed events (<see cref="StudioNotifier"/>; places in line come from
/// <see cref="StandingsPublisher"/>), and Cancel. It subscribes on first render, catches up once on what finished
/// before it could listen, and lets go when the page does.
/// </summary>
public sealed partial class JobQueuePanel : IDisposable
{
    private readonly CancellationTokenSource _leaving = new();
    private readonly JobCardList _jobs = new();
    private readonly HashSet<Guid> _notOurs = [];
    private EventCallback<Guid> _cancel;
    private ClaimsPrincipal _user = new();
    private string? _userId;
    private IDisposable? _subscription;
    private Guid? _loadedGallery;
    private Task _loading = Task.CompletedTask;

    /// <summary>Which jobs it follows.</summary>
    [Parameter] public JobPanelScope Scope { get; set; }

    /// <summary>The gallery whose jobs it follows (<see cref="JobPanelScope.Gallery"/>).</summary>
    [Parameter] public Guid? GalleryId { get; set; }

    /// <summary>The list's accessible name.</summary>
    [Parameter] public string Label { get; set; } = "My jobs";

    /// <summary>Extra CSS classes on the list.</summary>
    [Parameter] public string? Class { get; set; }

    /// <summary>Offers Cancel on waiting and running cards.</summary>
    [Parameter] public bool AllowCancel { get; set; } = true;

    /// <summary>Finished cards kept below the active ones; 0 drops a card when its job ends.</summary>
    [Parameter] public int KeepFinished { get; set; } = 10;

    /// <summary>The snackbar's first words when a job fails ("A job failed"); null tells no one.</summary>
    [Parameter] public string? FailurePrefix { get; set; }

    /// <summary>Shown while there is no card.</summary>
    [Parameter] public RenderFragment? EmptyContent { get; set; }

    /// <summary>Raised with an image id when the person opens one of a job's images.</summary>
    [Parameter] public EventCallback<Guid> OnOpenImage { get; set; }

    /// <summary>Raised when a followed job's images are stored (its card already shows them).</summary>
    [Parameter] public EventCallback<JobCardState> OnJobCompleted { get; set; }

    /// <summary>Raised after the cards were first loaded and whenever a job completes or a card leaves (the page's results move).</summary>
    [Parameter] public EventCallback OnJobsChanged { get; set; }

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    [Inject] private GenerationService Generation { get; set; } = null!;

    [Inject] private StudioNotifier Events { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Inject] private ILogger<JobQueuePanel> Logger { get; set; } = null!;

    /// <summary>Images of the completed jobs, newest first.</summary>
    public IReadOnlyList<Guid> CompletedImages(int max) => _jobs.CompletedImages(max);

    protected override Task OnInitializedAsync()
    {
        _cancel = EventCallback.Factory.Create<Guid>(this, CancelAsync);
        _loading = LoadAsync();
        return _loading;
    }

    private async Task LoadAsync()
    {
        _user = (await AuthenticationState).User;
        _userId = ResourceAccess.UserId(_user);
        if (Scope == JobPanelScope.Mine)
        {
            _jobs.AddRange(await Generation.ListJobsAsync(_user, KeepFinished, _leaving.Token));
        }
    }

    /// <summary>Another gallery drops the cards of the one before.</summary>
    protected override void OnParametersSet()
    {
        _jobs.KeepFinished = KeepFinished;
        if (Scope == JobPanelScope.Gallery && GalleryId != _loadedGallery)
        {
            _loadedGallery = GalleryId;
            _jobs.Clear();
            _notOurs.Clear();
        }
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }
        // The first render can come before the load finished: let it end, subscribe, then read the active cards once,
        // so whatever finished between the load's read and the subscription is not missed.
        await _loading;
        if (_userId is null)
        {
            return;
        }
        _subscription = Events.Subscribe(_userId, e => e is JobEvent job ? OnJobEventAsync(job) : Task.CompletedTask);
        await GuardAsync(CatchUpAsync);
        await OnJobsChanged.InvokeAsync();
    }

    /// <summary>Shows a job the page just submitted, before its first event arrives.</summary>
    public async Task TrackAsync(Guid jobId)
    {
        if (_jobs.Find(jobId) is not null || await Generation.GetJobAsync(_user, jobId, _leaving.Token) is not { } view)
        {
            return;
        }
        _notOurs.Remove(jobId);
        if (Scope == JobPanelScope.Submitted)
        {
            _jobs.Clear();
        }
        _jobs.AddNewest(view);
        StateHasChanged();
    }

    /// <summary>Drops every card (Inpaint, when the person starts over with another image).</summary>
    public void Clear()
    {
        _jobs.Clear();
        StateHasChanged();
    }

    /// <summary>Takes a deleted image off the cards that showed it.</summary>
    public Task RemoveImageAsync(Guid imageId)
    {
        _jobs.RemoveImage(imageId);
        StateHasChanged();
        return OnJobsChanged.InvokeAsync();
    }

    private async Task CancelAsync(Guid jobId)
    {
        var card = _jobs.Find(jobId);
        switch (await Generation.CancelAsync(_user, jobId, _leaving.Token))
        {
            case CancelOutcome.Canceled when card is not null:
                card.Status = JobStatus.Canceled;
                break;
            case CancelOutcome.Stopping when card is not null:
                card.Stopping = true;
                break;
            case CancelOutcome.NotFound:
                Snackbar.Add("That job is gone.", Severity.Warning);
                break;
            default:
                break;
        }
    }

    // Events arrive on the publisher's thread; everything, the "not ours" check included, happens on the renderer's.
    private Task OnJobEventAsync(JobEvent jobEvent) => InvokeAsync(() => GuardAsync(async () =>
    {
        if (!_notOurs.Contains(jobEvent.JobId) && await ApplyAsync(jobEvent))
        {
            StateHasChanged();
        }
    }));

    /// <summary>Applies one event; false when it was about no job this panel shows.</summary>
    private async Task<bool> ApplyAsync(JobEvent jobEvent)
    {
        var card = _jobs.Find(jobEvent.JobId);
        if (card is null)
        {
            if (jobEvent is not (JobQueued or JobStarted or JobProgress or JobStandingChanged) || await AdoptAsync(jobEvent.JobId) is not { } adopted)
            {
                return false;
            }
            card = adopted;
        }
        switch (jobEvent)
        {
            case JobCompleted:
                card.Apply(jobEvent);
                await OnJobCompleted.InvokeAsync(card);
                await OnJobsChanged.InvokeAsync();
                break;
            case JobFailed failed:
                card.Apply(failed);
                if (FailurePrefix is not null)
                {
                    Snackbar.Add($"{FailurePrefix}: {failed.Error}", Severity.Error);
                }
                break;
            default:
                card.Apply(jobEvent);
                break;
        }
        _jobs.Trim();
        return true;
    }

    /// <summary>A job this panel has no card for yet: its new card when it belongs here (read once; a no is kept).</summary>
    private async Task<JobCardState?> AdoptAsync(Guid jobId)
    {
        if (Scope == JobPanelScope.Submitted)
        {
            return null; // only what the page hands it (TrackAsync); nothing to read or remember
        }
        var view = await Generation.GetJobAsync(_user, jobId, _leaving.Token);
        var belongs = view is { Status: JobStatus.Queued or JobStatus.Running }
            && (Scope == JobPanelScope.Mine ? view.OwnerId == _userId : GalleryId is not null && view.GalleryId == GalleryId);
        if (!belongs)
        {
            _notOurs.Add(jobId);
            return null;
        }
        return _jobs.AddNewest(view!);
    }

    private async Task CatchUpAsync()
    {
        foreach (var card in _jobs.Active)
        {
            if (await Generation.GetJobAsync(_user, card.Id, _leaving.Token) is { } stored)
            {
                card.Apply(stored);
            }
        }
        _jobs.Trim();
        StateHasChanged();
    }

    /// <summary>A failed update leaves the cards as they were and says so; the next event brings them up to date.</summary>
    private async Task GuardAsync(Func<Task> update)
    {
        try
        {
            await update();
        }
        catch (OperationCanceledException) when (_leaving.IsCancellationRequested)
        {
            // The page is going away.
        }
        catch (Exception ex) when (ex is Microsoft.EntityFrameworkCore.DbUpdateException or System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            LogUpdateFailed(Logger, ex);
            Snackbar.Add("The queue could not be brought up to date; reload the page to see the latest.", Severity.Warning);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Updating the job queue panel failed")]
    private static partial void LogUpdateFailed(ILogger logger, Exception ex);

    /// <inheritdoc />
    public void Dispose()
    {
        _subscription?.Dispose();
        _leaving.Cancel();
        // Cancelled, not disposed: work queued just before the page left still reads its token.
    }
}
