using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.JSInterop;
using MudBlazor;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Tokenization;
using T2IStudio.Web.Components.Jobs;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;

namespace T2IStudio.Web.Components.Inpaint;

/// <summary>
/// The Inpaint page: pick one of your images (or upload one), paint a mask in the editor, describe the change,
/// and run it through the same queue as Create. The result lands in the gallery linked to its parent and mask.
/// The page holds the route (<c>?image=</c>), who may see what, and the submit; choosing the source
/// (<see cref="InpaintSourcePicker"/>), the settings (<see cref="InpaintSettingsEditor"/>), the mask (<see cref="MaskEditor"/>),
/// the job's card (<see cref="JobQueuePanel"/>) and the before/after view (<see cref="InpaintCompare"/>) are components of their own.
/// </summary>
public sealed partial class InpaintPage
{
    private readonly CancellationTokenSource _leaving = new();
    private ClaimsPrincipal _user = new();
    private MaskEditor? _editor;
    private JobQueuePanel? _queue;

    private bool _loading = true;
    private InpaintSource? _source;
    private IReadOnlyList<ModelInfo> _models = [];
    private InpaintSettings _settings = new();
    private ClipTokenizer? _tokenizer;
    private string _prompt = "";
    private string _negative = "";
    private bool _painted;
    private bool _submitting;
    private string _submitKey = Guid.NewGuid().ToString("N");
    private IReadOnlyList<string> _errors = [];
    private Result? _result;
    private Guid? _lightboxImage;
    private Guid? _shownImage;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    /// <summary>One of the person's images to start from.</summary>
    [SupplyParameterFromQuery(Name = "image")] public Guid? ImageId { get; set; }

    [Inject] private ImageLibrary Library { get; set; } = null!;

    [Inject] private GenerationService Generation { get; set; } = null!;

    [Inject] private ModelHost Models { get; set; } = null!;

    [Inject] private NavigationManager Navigation { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Inject] private ILogger<InpaintPage> Logger { get; set; } = null!;

    private ModelInfo? CurrentModel => _models.FirstOrDefault(m => m.Id == _settings.ModelId);

    private int PromptChunks => CurrentModel?.Traits?.MaxPromptChunks ?? 1;

    private (int Width, int Height) WorkingSize => _source is null || CurrentModel?.Traits is not { } traits
        ? (0, 0)
        : MaskFiles.WorkingSize(_source.Width, _source.Height, Math.Max(traits.Defaults.Width, traits.Defaults.Height), traits.VaeScaleFactor);

    /// <inheritdoc />
    protected override async Task OnInitializedAsync()
    {
        _user = (await AuthenticationState).User;
        // Any model with a VAE encoder can inpaint; a real inpainting UNet goes first.
        _models = [.. Models.Catalog.List().Where(m => m.IsAvailable && m.Traits!.HasVaeEncoder).OrderByDescending(m => m.Traits!.IsInpainting).ThenBy(m => m.Id, StringComparer.Ordinal)];
        if (_models.Count > 0)
        {
            SettingsChanged(_settings.WithModel(_models[0]));
        }
    }

    /// <inheritdoc />
    protected override async Task OnParametersSetAsync()
    {
        if (ImageId == _shownImage && !_loading)
        {
            return;
        }
        _shownImage = ImageId;
        _loading = true;
        _result = null;
        _queue?.Clear(); // another image's job is not this one's (the panel can outlive a change of ?image=)
        if (ImageId is { } id)
        {
            var image = await Library.GetAsync(_user, id, _leaving.Token);
            if (image is null)
            {
                // Someone else's id reads exactly like a missing one.
                Navigation.NotFound();
                return;
            }
            await SetSourceAsync(InpaintSource.FromGallery(image));
            _prompt = image.Prompt;
            _negative = image.NegativePrompt;
        }
        else if (_source?.Upload is null)
        {
            await SetSourceAsync(null); // the chooser
        }
        _loading = false;
    }

    private void SettingsChanged(InpaintSettings settings)
    {
        if (settings.ModelId != _settings.ModelId)
        {
            _tokenizer = Models.TryGetTokenizer(settings.ModelId);
        }
        _settings = settings;
    }

    private void EditImage(Guid id) => Navigation.NavigateTo($"/inpaint?image={id}");

    private async Task ChangeImageAsync()
    {
        await SetSourceAsync(null);
        Navigation.NavigateTo("/inpaint");
        _shownImage = Guid.Empty; // load the chooser even when the query does not change
        await OnParametersSetAsync();
    }

    private async Task UseUploadAsync(InpaintUpload upload)
    {
        await SetSourceAsync(InpaintSource.FromUpload(upload));
        _result = null;
        _queue?.Clear();
    }

    /// <summary>Moves to another source (or none); an upload let go of has its object URL revoked.</summary>
    private async Task SetSourceAsync(InpaintSource? source)
    {
        var previous = _source?.Upload;
        _source = source;
        if (previous is not null && !ReferenceEquals(previous, source?.Upload))
        {
            await previous.DisposeAsync();
        }
    }

    private void ImageFailed() => Snackbar.Add("The browser could not show that image.", Severity.Error);

    private async Task InpaintAsync()
    {
        if (_submitting || _source is null || _editor is null)
        {
            return;
        }
        _submitting = true;
        try
        {
            var mask = await _editor.ExportMaskAsync(_leaving.Token);
            if (mask is null)
            {
                return;
            }
            var request = _settings.ToJobRequest(CurrentModel?.Traits, WorkingSize, _prompt, _negative, mask) with
            {
                SourceImageId = _source.ImageId,
                UploadedSource = _source.Upload?.Image,
                IdempotencyKey = _submitKey,
            };
            var result = await Generation.SubmitInpaintAsync(_user, request, _leaving.Token);
            if (!result.Succeeded)
            {
                _errors = result.Errors;
                Snackbar.Add(result.Errors[0], Severity.Error);
                return;
            }
            _errors = [];
            _submitKey = Guid.NewGuid().ToString("N");
            _result = null;
            if (_queue is not null)
            {
                await _queue.TrackAsync(result.JobId!.Value);
            }
        }
        catch (OperationCanceledException) when (_leaving.IsCancellationRequested)
        {
            // The page is going away.
        }
        catch (ArgumentOutOfRangeException)
        {
            Snackbar.Add($"The mask is larger than {MaskFiles.MaxBytes / 1024 / 1024} MB; paint a simpler mask or use a smaller image.", Severity.Error);
        }
        catch (Exception ex) when (ex is JSException or InvalidOperationException or IOException or Microsoft.EntityFrameworkCore.DbUpdateException or System.Data.Common.DbException)
        {
            LogSubmitFailed(Logger, ex);
            Snackbar.Add("The job could not be queued. Your mask and prompt are still here; try again.", Severity.Error);
        }
        finally
        {
            _submitting = false;
        }
    }

    /// <summary>The hand-off from the job to the comparison: the finished image against the picture it started from.</summary>
    private void ShowResult(JobCardState job)
    {
        if (job.ImageIds.Count > 0 && _source is not null)
        {
            _result = new Result(job.ImageIds[0], _source.Url);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await SetSourceAsync(null);
        await _leaving.CancelAsync();
        // Cancelled, not disposed: work queued just before the page left still reads its token.
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Submitting an inpainting job failed")]
    private static partial void LogSubmitFailed(ILogger logger, Exception exception);

    /// <summary>The finished image and what it started from.</summary>
    private sealed record Result(Guid Id, string BeforeUrl);
}
