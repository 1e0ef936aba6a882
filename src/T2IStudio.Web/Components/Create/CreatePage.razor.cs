using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Tokenization;
using T2IStudio.Web.Access;
using T2IStudio.Web.Components.Jobs;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Preferences;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Styles;

namespace T2IStudio.Web.Components.Create;

/// <summary>
/// The Create page: the prompt editor and the parameters (<see cref="GenerationForm"/> on one
/// <see cref="GenerationSettings"/>, remembered per person), the person's queue (<see cref="JobQueuePanel"/>) and
/// the results. Nothing here waits on the engine: Generate queues a job and returns.
/// </summary>
public sealed partial class CreatePage : IAsyncDisposable
{
    private const int RecentJobs = 10;
    private const int ResultCount = 12;
    private readonly CancellationTokenSource _leaving = new();
    private readonly GenerationSettings _form = new();
    private System.Security.Claims.ClaimsPrincipal _user = new();
    private string? _userId;
    private JobQueuePanel? _queue;

    private IReadOnlyList<ModelInfo>? _models;
    private IReadOnlyList<T2IStudio.Generation.Upscaling.UpscalerInfo> _upscalers = [];
    private ClipTokenizer? _tokenizer;
    private int _promptChunks = 1;
    private IReadOnlyList<GallerySummary> _saveTargets = [];
    private IReadOnlyList<string> _errors = [];
    private bool _submitting;
    private string _submitKey = NewKey();
    private bool _historyOpen;

    private Guid? _lightboxImage;
    private Guid? _reusedFrom;
    private IReadOnlyList<StyleGroup> _styles = [];
    private IDisposable? _subscription;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    /// <summary>An image id whose parameters fill the form ("Reuse parameters").</summary>
    [SupplyParameterFromQuery(Name = "from")] public Guid? FromImage { get; set; }

    [Inject] private GenerationService Generation { get; set; } = null!;

    [Inject] private ModelHost Models { get; set; } = null!;

    [Inject] private UserPreferences Preferences { get; set; } = null!;

    [Inject] private ImageLibrary Library { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Inject] private NavigationManager Navigation { get; set; } = null!;

    [Inject] private GalleryService GalleryService { get; set; } = null!;

    [Inject] private ILogger<CreatePage> Logger { get; set; } = null!;

    [Inject] private StyleLibrary StyleLibrary { get; set; } = null!;

    [Inject] private StudioNotifier Events { get; set; } = null!;

    private StyleView? SelectedStyle => FindStyle(_form.StyleId);

    private string StyleHelp => SelectedStyle is not { } style ? "A saved prompt fragment with its own defaults"
        : StyleExpansion.HasPlaceholder(style.Prompt) ? "Your prompt goes where the style's {prompt} stands"
        : "The style's words follow your prompt";

    private List<Guid> Results => [.. _queue?.CompletedImages(ResultCount) ?? []];

    protected override async Task OnInitializedAsync()
    {
        _user = (await AuthenticationState).User;
        _userId = ResourceAccess.UserId(_user);
        _models = [.. Models.Catalog.List().OrderByDescending(m => m.IsAvailable)];
        _upscalers = [.. Models.Upscalers.List().Where(u => u.IsAvailable)];
        var remembered = _userId is null ? new CreateSettings() : await Preferences.GetCreateSettingsAsync(_userId, _leaving.Token);
        if ((_models.FirstOrDefault(m => m.IsAvailable && m.Id == remembered.Model) ?? _models.FirstOrDefault(m => m.IsAvailable)) is { } model)
        {
            _form.UseModel(model, remembered);
            ModelChanged(model);
        }
        _saveTargets = await GalleryService.WritableAsync(_user, _leaving.Token);
        _styles = await StyleLibrary.ListAsync(_user, _leaving.Token);
        _form.Recall(remembered, _saveTargets.Select(g => g.Id), AllStyles().Select(s => s.Id));
        // Hires fix offers the first installed upscaler (the embedded ×4 one) until the person picks another or Lanczos.
        _form.OfferUpscaler(_upscalers.Count > 0 ? _upscalers[0].Id : null);
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && _userId is not null)
        {
            _subscription = Events.Subscribe(_userId, OnEventAsync);
        }
    }

    /// <summary>
    /// A style added, changed or deleted elsewhere (another tab, a teammate) reaches the picker at once, and so does
    /// leaving a team (its styles go) or joining one (its styles come).
    /// </summary>
    private async Task OnEventAsync(StudioEvent studioEvent)
    {
        if (studioEvent is not (StylesChanged or TeamChanged))
        {
            return;
        }
        try
        {
            await InvokeAsync(async () =>
            {
                _styles = await StyleLibrary.ListAsync(_user, _leaving.Token);
                if (_form.StyleId is { } chosen && FindStyle(chosen) is null)
                {
                    _form.StyleId = null;
                    Snackbar.Add("The style you chose is no longer available; no style is applied.", Severity.Warning);
                }
                StateHasChanged();
            });
        }
        catch (ObjectDisposedException)
        {
            // The circuit closed between the event and the render.
        }
        catch (OperationCanceledException) when (_leaving.IsCancellationRequested)
        {
            // The page is going away.
        }
        catch (Exception ex)
        {
            await DispatchExceptionAsync(ex);
        }
    }

    private IEnumerable<StyleView> AllStyles() => _styles.SelectMany(g => g.Styles);

    private StyleView? FindStyle(Guid? id) => id is null ? null : AllStyles().FirstOrDefault(s => s.Id == id);

    /// <summary>The Style list: no style, then each group's styles in order.</summary>
    private IEnumerable<Guid?> StyleChoices => AllStyles().Select(s => (Guid?)s.Id).Prepend(null);

    private string? StyleOptionName(Guid? id) => FindStyle(id) is { } style ? $"{style.Name} ({style.Owner})" : null;

    private string StyleLabel(Guid? id) => FindStyle(id) is { } style ? $"{style.Name} · {style.Owner}" : "No style";

    /// <summary>Choosing a style applies its default parameters; the prompts stay as typed (the preview shows the expansion).</summary>
    private void StyleChosen(Guid? id)
    {
        if (_form.ApplyStyle(FindStyle(id), _models ?? []) is { } model)
        {
            ModelChanged(model);
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

    private async Task ReuseAsync(Guid imageId)
    {
        var image = await Library.GetAsync(_user, imageId, _leaving.Token);
        if (image is null)
        {
            // Someone else's image reads exactly like a missing one.
            Navigation.NotFound();
            return;
        }
        if (GenerationMetadata.ReadStoredRequest(image.RequestJson) is not { } stored)
        {
            Snackbar.Add("That image carries no parameters to reuse.", Severity.Warning);
            return;
        }
        if (_models?.FirstOrDefault(m => m.Id == stored.Model && m.IsAvailable) is { } model)
        {
            _form.UseModel(model);
            ModelChanged(model);
        }
        else
        {
            Snackbar.Add($"Model '{stored.Model}' is not installed; the other parameters are filled in.", Severity.Warning);
        }
        if (_form.Reuse(stored, id => FindStyle(id) is not null))
        {
            Snackbar.Add("Parameters filled in from the image; the seed is locked.", Severity.Info);
        }
        else
        {
            Snackbar.Add($"The style \"{stored.Style!.Name}\" is no longer available: the prompt it expanded to is filled in, with no style.", Severity.Warning);
        }
    }

    private void ModelChanged(ModelInfo model)
    {
        _tokenizer = Models.TryGetTokenizer(model.Id);
        _promptChunks = model.Traits?.MaxPromptChunks ?? 1;
    }

    private async Task GenerateAsync()
    {
        if (_submitting || _models is null)
        {
            return;
        }
        _submitting = true;
        try
        {
            _form.NextSeed();
            var result = await Generation.SubmitAsync(_user, _form.ToJob(_submitKey), _leaving.Token);
            if (!result.Succeeded)
            {
                _errors = result.Errors;
                Snackbar.Add(result.Errors[0], Severity.Error);
                return;
            }
            _errors = [];
            _submitKey = NewKey();
            if (_queue is not null)
            {
                await _queue.TrackAsync(result.JobId!.Value);
            }
            if (_userId is not null)
            {
                await Preferences.SetCreateSettingsAsync(_userId, _form.Remember(), _leaving.Token);
            }
        }
        catch (OperationCanceledException) when (_leaving.IsCancellationRequested)
        {
            // The page is going away.
        }
        catch (Exception ex) when (ex is Microsoft.EntityFrameworkCore.DbUpdateException or System.Data.Common.DbException or InvalidOperationException or IOException)
        {
            LogSubmitFailed(Logger, ex);
            Snackbar.Add("The job could not be queued. Your prompt is still here; try again.", Severity.Error);
        }
        finally
        {
            _submitting = false;
        }
    }

    private void OpenHistory() => _historyOpen = true;

    private void UsePrompt(Data.Entities.SavedPrompt prompt)
    {
        _form.Prompt = prompt.Text;
        _form.NegativePrompt = prompt.NegativeText;
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

    private async Task ImageDeleted(Guid id)
    {
        _lightboxImage = null;
        if (_queue is not null)
        {
            await _queue.RemoveImageAsync(id);
        }
    }

    private static string NewKey() => Guid.NewGuid().ToString("N");

    [LoggerMessage(Level = LogLevel.Error, Message = "Submitting a job failed")]
    private static partial void LogSubmitFailed(ILogger logger, Exception ex);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        await _leaving.CancelAsync();
        // Cancelled, not disposed: work queued just before the page left still reads its token.
    }
}
