using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Tokenization;
using T2IStudio.Web.Access;
using T2IStudio.Web.Components.Jobs;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Preferences;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Components.Create;

/// <summary>
/// The Create page: prompt editor, parameters (remembered per person), the person's queue with live progress
/// and previews pushed by the worker, and the results. Nothing here waits on the engine: Generate queues a
/// job and returns.
/// </summary>
public sealed partial class CreatePage
{
    private const int RecentJobs = 10;
    private readonly CancellationTokenSource _leaving = new();
    private readonly List<JobCardState> _jobs = [];
    private System.Security.Claims.ClaimsPrincipal _user = new();
    private string? _userId;
    private IDisposable? _subscription;

    private IReadOnlyList<ModelInfo>? _models;
    private string _modelId = "";
    private ClipTokenizer? _tokenizer;
    private IReadOnlyList<int> _sizes = [];
    private string _prompt = "";
    private string _negative = "";
    private SchedulerKind _scheduler;
    private int _steps;
    private double _guidance;
    private int _width;
    private int _height;
    private ulong _seed;
    private bool _seedLocked;
    private int _batch = 1;
    private Guid? _saveTo;
    private IReadOnlyList<Galleries.GallerySummary> _saveTargets = [];

    private IReadOnlyList<string> _errors = [];
    private bool _submitting;
    private string _submitKey = NewKey();
    private bool _historyOpen;
    private Guid? _lightboxImage;
    private Guid? _reusedFrom;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    /// <summary>An image id whose parameters fill the form ("Reuse parameters").</summary>
    [SupplyParameterFromQuery(Name = "from")] public Guid? FromImage { get; set; }

    [Inject] private GenerationService Generation { get; set; } = null!;

    [Inject] private ModelHost Models { get; set; } = null!;

    [Inject] private StudioNotifier Events { get; set; } = null!;

    [Inject] private UserPreferences Preferences { get; set; } = null!;

    [Inject] private ImageLibrary Library { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Inject] private NavigationManager Navigation { get; set; } = null!;

    [Inject] private Galleries.GalleryService GalleryService { get; set; } = null!;

    [Inject] private ILogger<CreatePage> Logger { get; set; } = null!;

    private IEnumerable<SchedulerKind> Schedulers =>
        CurrentModel?.Traits?.IsLcm == true ? [SchedulerKind.Lcm] : Enum.GetValues<SchedulerKind>().Where(k => k != SchedulerKind.Lcm);

    private ModelInfo? CurrentModel => _models?.FirstOrDefault(m => m.Id == _modelId);

    private List<Guid> Results => [.. _jobs.Where(j => j.Status == JobStatus.Completed).SelectMany(j => j.ImageIds).Take(12)];

    protected override async Task OnInitializedAsync()
    {
        _user = (await AuthenticationState).User;
        _userId = ResourceAccess.UserId(_user);
        _models = [.. Models.Catalog.List().OrderByDescending(m => m.IsAvailable)];
        var settings = _userId is null ? new CreateSettings() : await Preferences.GetCreateSettingsAsync(_userId, _leaving.Token);
        var model = _models.FirstOrDefault(m => m.IsAvailable && m.Id == settings.Model) ?? _models.FirstOrDefault(m => m.IsAvailable);
        if (model is not null)
        {
            SelectModel(model, settings);
        }
        _prompt = settings.Prompt;
        _negative = settings.NegativePrompt;
        _seed = settings.Seed ?? T2IStudio.Generation.Noise.Seeds.NewRandom();
        _seedLocked = settings.SeedLocked;
        _saveTargets = await GalleryService.WritableAsync(_user, _leaving.Token);
        _saveTo = _saveTargets.Any(g => g.Id == settings.SaveTo) ? settings.SaveTo : null;

        foreach (var job in await Generation.ListJobsAsync(_user, RecentJobs, _leaving.Token))
        {
            _jobs.Add(JobCardState.From(job));
        }
    }

    /// <summary>"Reuse parameters" from a lightbox on this very page changes only the query, not the page.</summary>
    protected override async Task OnParametersSetAsync()
    {
        if (FromImage is { } imageId && imageId != _reusedFrom && _models is not null)
        {
            _reusedFrom = imageId;
            _lightboxImage = null;
            await ReuseAsync(imageId);
        }
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && _userId is not null)
        {
            _subscription = Events.Subscribe(_userId, e => e is JobEvent job ? OnJobEventAsync(job) : Task.CompletedTask);
            _ = RefreshStandingsAsync(_leaving.Token);
        }
    }

    private async Task ReuseAsync(Guid imageId)
    {
        var image = await Library.GetAsync(_user, imageId, _leaving.Token);
        if (image is null)
        {
            // Someone else's image reads exactly like a missing one.
            Navigation.NotFound();
            return;
        }
        var stored = GenerationMetadata.ReadStoredRequest(image.RequestJson);
        if (stored is null)
        {
            Snackbar.Add("That image carries no parameters to reuse.", Severity.Warning);
            return;
        }
        if (_models?.FirstOrDefault(m => m.Id == stored.Model && m.IsAvailable) is { } model)
        {
            SelectModel(model, new CreateSettings());
        }
        else
        {
            Snackbar.Add($"Model '{stored.Model}' is not installed; the other parameters are filled in.", Severity.Warning);
        }
        _prompt = stored.Prompt;
        _negative = stored.NegativePrompt;
        _steps = stored.Steps;
        _guidance = stored.GuidanceScale;
        _scheduler = stored.Scheduler;
        _width = stored.Width;
        _height = stored.Height;
        _sizes = [.. _sizes.Union([stored.Width, stored.Height]).Order()];
        _seed = stored.Seed;
        _seedLocked = true;
        _batch = 1;
        Snackbar.Add("Parameters filled in from the image; the seed is locked.", Severity.Info);
    }

    private void SelectModel(ModelInfo model, CreateSettings remembered)
    {
        _modelId = model.Id;
        var defaults = model.Traits?.Defaults ?? new ModelDefaults();
        var factor = model.Traits?.VaeScaleFactor ?? 8;
        _sizes = SizePresets(defaults, factor);
        _scheduler = model.Traits?.IsLcm == true ? SchedulerKind.Lcm : remembered.Scheduler ?? defaults.Scheduler;
        _steps = Math.Clamp(remembered.Steps ?? defaults.Steps, 1, GenerationLimits.MaxSteps);
        _guidance = Math.Clamp(remembered.Guidance ?? defaults.Guidance, 0, 30);
        _width = remembered.Width is { } w && _sizes.Contains(w) ? w : defaults.Width;
        _height = remembered.Height is { } h && _sizes.Contains(h) ? h : defaults.Height;
        _batch = Math.Clamp(remembered.BatchSize ?? 1, 1, GenerationLimits.MaxBatchSize);
        _tokenizer = Models.TryGetTokenizer(model.Id);
    }

    /// <summary>Sizes around the model's native size, multiples of its VAE factor.</summary>
    internal static IReadOnlyList<int> SizePresets(ModelDefaults defaults, int factor)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        var native = Math.Min(defaults.Width, defaults.Height);
        return [.. new[] { 0.5, 0.75, 1, 1.25, 1.5, 2 }
            .Select(s => (int)(native * s) / factor * factor)
            .Append(defaults.Width).Append(defaults.Height)
            .Where(v => v >= factor && v <= GenerationLimits.MaxSide)
            .Distinct().Order()];
    }

    private Task ModelChangedAsync(string id)
    {
        if (_models?.FirstOrDefault(m => m.Id == id && m.IsAvailable) is { } model)
        {
            SelectModel(model, new CreateSettings());
        }
        return Task.CompletedTask;
    }

    private void SeedTyped(ulong value)
    {
        _seed = value;
        _seedLocked = true; // a typed seed is one the person wants to keep
    }

    private void RollSeed() => _seed = T2IStudio.Generation.Noise.Seeds.NewRandom();

    private void ToggleSeedLock() => _seedLocked = !_seedLocked;

    private async Task GenerateAsync()
    {
        if (_submitting || _models is null)
        {
            return;
        }
        _submitting = true;
        try
        {
            if (!_seedLocked)
            {
                _seed = T2IStudio.Generation.Noise.Seeds.NewRandom();
            }
            var job = new JobRequest
            {
                Model = _modelId,
                IdempotencyKey = _submitKey,
                GalleryId = _saveTo,
                Request = new GenerationRequest
                {
                    Prompt = _prompt,
                    NegativePrompt = _negative,
                    Steps = _steps,
                    GuidanceScale = _guidance,
                    Width = _width,
                    Height = _height,
                    Seed = _seed,
                    BatchSize = _batch,
                    Scheduler = _scheduler,
                },
            };
            var result = await Generation.SubmitAsync(_user, job, _leaving.Token);
            if (!result.Succeeded)
            {
                _errors = result.Errors;
                Snackbar.Add(result.Errors[0], Severity.Error);
                return;
            }
            _errors = [];
            _submitKey = NewKey();
            if (await Generation.GetJobAsync(_user, result.JobId!.Value, _leaving.Token) is { } view && _jobs.All(j => j.Id != view.Id))
            {
                _jobs.Insert(0, JobCardState.From(view));
            }
            if (_userId is not null)
            {
                await Preferences.SetCreateSettingsAsync(_userId, CurrentSettings(), _leaving.Token);
            }
        }
        catch (OperationCanceledException) when (_leaving.IsCancellationRequested)
        {
            // The page is going away.
        }
        catch (Exception ex) when (ex is Microsoft.EntityFrameworkCore.DbUpdateException or System.Data.Common.DbException or InvalidOperationException or IOException)
        {
            Logger.LogError(ex, "Submitting a job failed");
            Snackbar.Add("The job could not be queued. Your prompt is still here; try again.", Severity.Error);
        }
        finally
        {
            _submitting = false;
        }
    }

    private CreateSettings CurrentSettings() => new()
    {
        Model = _modelId,
        Prompt = _prompt,
        NegativePrompt = _negative,
        Scheduler = _scheduler,
        Steps = _steps,
        Guidance = _guidance,
        Width = _width,
        Height = _height,
        Seed = _seed,
        SeedLocked = _seedLocked,
        BatchSize = _batch,
        SaveTo = _saveTo,
    };

    private async Task CancelAsync(Guid jobId)
    {
        var card = _jobs.FirstOrDefault(j => j.Id == jobId);
        var outcome = await Generation.CancelAsync(_user, jobId, _leaving.Token);
        switch (outcome)
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

    private Task OnJobEventAsync(JobEvent jobEvent) => InvokeAsync(async () =>
    {
        try
        {
            await ApplyAsync(jobEvent);
            StateHasChanged();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A lost update is better than a broken page; the next event or the timer catches up.
            Logger.LogWarning(ex, "Applying {Event} failed", jobEvent.GetType().Name);
        }
    });

    private async Task ApplyAsync(JobEvent jobEvent)
    {
        var card = _jobs.FirstOrDefault(j => j.Id == jobEvent.JobId);
        switch (jobEvent)
        {
            // Only this person's own jobs get a card (teammates' jobs into a shared gallery show on the gallery).
            case JobQueued when card is null:
            case JobCompleted when card is not null:
                if (await Generation.GetJobAsync(_user, jobEvent.JobId, _leaving.Token) is { } view)
                {
                    if (card is null)
                    {
                        _jobs.Insert(0, JobCardState.From(view));
                    }
                    else
                    {
                        card.Apply(view);
                        card.PreviewUrl = null;
                    }
                }
                break;
            case JobFailed failed when card is not null:
                card.Apply(failed);
                Snackbar.Add($"A job failed: {failed.Error}", Severity.Error);
                break;
            case JobStarted or JobProgress or JobCanceled when card is not null:
                card.Apply(jobEvent);
                break;
            default:
                break;
        }
        foreach (var active in _jobs.Where(j => j.IsActive))
        {
            active.ApplyStanding(Generation.StandingOf(active.Id));
        }
        while (_jobs.Count(j => !j.IsActive) > RecentJobs)
        {
            _jobs.Remove(_jobs.Last(j => !j.IsActive));
        }
    }

    /// <summary>Places in line and estimates move with other people's jobs too, which send this page no events.</summary>
    private async Task RefreshStandingsAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                if (!_jobs.Any(j => j.IsActive))
                {
                    continue;
                }
                await InvokeAsync(async () =>
                {
                    foreach (var job in _jobs.Where(j => j.IsActive).ToList())
                    {
                        var standing = Generation.StandingOf(job.Id);
                        if (standing is null && await Generation.GetJobAsync(_user, job.Id, cancellationToken) is { } stored)
                        {
                            // Neither waiting nor running here: it finished while no event could reach this page
                            // (between loading and subscribing, or across a reconnect). Take the stored state.
                            job.Apply(stored);
                            continue;
                        }
                        job.ApplyStanding(standing);
                    }
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException)
        {
            // The page closed.
        }
    }

    private void OpenHistory() => _historyOpen = true;

    private void UsePrompt(Data.Entities.SavedPrompt prompt)
    {
        _prompt = prompt.Text;
        _negative = prompt.NegativeText;
        _historyOpen = false;
    }

    private void OpenImage(Guid id) => _lightboxImage = id;

    private void NavigateLightbox(bool older)
    {
        var results = Results;
        if (_lightboxImage is not { } current || results.IndexOf(current) is var index && index < 0)
        {
            return;
        }
        var next = index + (older ? 1 : -1);
        if (next >= 0 && next < results.Count)
        {
            _lightboxImage = results[next];
        }
    }

    private void ImageDeleted(Guid id)
    {
        foreach (var job in _jobs.Where(j => j.ImageIds.Contains(id)))
        {
            job.ImageIds = [.. job.ImageIds.Where(i => i != id)];
        }
        _lightboxImage = null;
    }

    private static string NewKey() => Guid.NewGuid().ToString("N");

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        await _leaving.CancelAsync();
        _leaving.Dispose();
    }
}
