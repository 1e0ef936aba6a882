using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.JSInterop;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Tokenization;
using T2IStudio.Web.Access;
using T2IStudio.Web.Components.Jobs;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Components.Inpaint;

/// <summary>
/// The Inpaint page: pick one of your images (or upload one), paint a mask in the editor, describe the change,
/// and run it through the same queue as Create. The result lands in the gallery linked to its parent and mask.
/// </summary>
public sealed partial class InpaintPage
{
    private readonly CancellationTokenSource _leaving = new();
    private System.Security.Claims.ClaimsPrincipal _user = new();
    private IDisposable? _subscription;
    private InputFile? _upload;
    private MaskEditor? _editor;
    private IJSObjectReference? _module;

    private bool _loading = true;
    private IReadOnlyList<ImageTile> _recent = [];
    private Source? _source;
    private string _sourceLabel = "";
    private IReadOnlyList<ModelInfo> _models = [];
    private string _modelId = "";
    private ClipTokenizer? _tokenizer;
    private string _prompt = "";
    private string _negative = "";
    private double _strength = 0.75;
    private int _maskBlur = 4;
    private MaskedContent _maskedContent = MaskedContent.Original;
    private bool _onlyMasked;
    private int _padding = 32;
    private int _steps = 25;
    private ulong _seed = T2IStudio.Generation.Noise.Seeds.NewRandom();
    private bool _painted;
    private bool _submitting;
    private string _submitKey = Guid.NewGuid().ToString("N");
    private IReadOnlyList<string> _errors = [];
    private JobCardState? _job;
    private Result? _result;
    private int _split = 50;
    private Guid? _lightboxImage;
    private Guid? _shownImage;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    /// <summary>One of the person's images to start from.</summary>
    [SupplyParameterFromQuery(Name = "image")] public Guid? ImageId { get; set; }

    [Inject] private ImageLibrary Library { get; set; } = null!;

    [Inject] private GenerationService Generation { get; set; } = null!;

    [Inject] private ImageUploads Uploads { get; set; } = null!;

    [Inject] private StudioNotifier Events { get; set; } = null!;

    [Inject] private ModelHost Models { get; set; } = null!;

    [Inject] private NavigationManager Navigation { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Inject] private IJSRuntime JS { get; set; } = null!;

    [Inject] private ILogger<InpaintPage> Logger { get; set; } = null!;

    private ModelInfo? CurrentModel => _models.FirstOrDefault(m => m.Id == _modelId);

    private (int Width, int Height) WorkingSize => _source is null || CurrentModel?.Traits is not { } traits
        ? (0, 0)
        : MaskFiles.WorkingSize(_source.Width, _source.Height, Math.Max(traits.Defaults.Width, traits.Defaults.Height), traits.VaeScaleFactor);

    protected override async Task OnInitializedAsync()
    {
        _user = (await AuthenticationState).User;
        // Any model with a VAE encoder can inpaint; a real inpainting UNet goes first.
        _models = [.. Models.Catalog.List().Where(m => m.IsAvailable && m.Traits!.HasVaeEncoder).OrderByDescending(m => m.Traits!.IsInpainting).ThenBy(m => m.Id, StringComparer.Ordinal)];
        if (_models.Count > 0)
        {
            ModelChanged(_models[0].Id);
        }
    }

    protected override async Task OnParametersSetAsync()
    {
        if (ImageId == _shownImage && !_loading)
        {
            return;
        }
        _shownImage = ImageId;
        _loading = true;
        _result = null;
        _job = null;
        if (ImageId is { } id)
        {
            var image = await Library.GetAsync(_user, id, _leaving.Token);
            if (image is null)
            {
                // Someone else's id reads exactly like a missing one.
                Navigation.NotFound();
                return;
            }
            _source = new Source(image.Width, image.Height, $"/images/{image.Id}", image.Id, null);
            _sourceLabel = "From your gallery";
            _prompt = image.Prompt;
            _negative = image.NegativePrompt;
        }
        else if (_source?.Upload is null)
        {
            _source = null;
            _recent = (await Library.PageAsync(_user, new GalleryFilter(), 0, 12, _leaving.Token)).Tiles;
        }
        _loading = false;
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && ResourceAccess.UserId(_user) is { } userId)
        {
            _subscription = Events.Subscribe(userId, e => e is JobEvent job ? OnJobEventAsync(job) : Task.CompletedTask);
        }
    }

    private void ModelChanged(string id)
    {
        _modelId = id;
        var model = CurrentModel;
        if (model?.Traits is { } traits)
        {
            _steps = traits.Defaults.Steps;
        }
        _tokenizer = Models.TryGetTokenizer(id);
    }

    private void Choose(Guid id) => Navigation.NavigateTo($"/inpaint?image={id}");

    private async Task ChangeImage()
    {
        await RevokeUploadUrlAsync();
        _source = null;
        Navigation.NavigateTo("/inpaint");
        _shownImage = Guid.Empty; // load the chooser even when the query does not change
        await OnParametersSetAsync();
    }

    private async Task UploadAsync(InputFileChangeEventArgs e)
    {
        var file = e.File;
        // The service is the trust boundary: it reads, checks and reduces the file; the page keeps only the result.
        UploadOutcome upload;
        try
        {
            upload = await Uploads.ReadAsync(file, _leaving.Token);
        }
        catch (OperationCanceledException) when (_leaving.IsCancellationRequested)
        {
            return; // the page is going away
        }
        if (upload.Image is not { } decoded)
        {
            Snackbar.Add(upload.Refusal!, Severity.Error);
            return;
        }
        _module ??= await JS.InvokeAsync<IJSObjectReference>("import", "./Components/Inpaint/MaskEditor.razor.js");
        var url = await _module.InvokeAsync<string?>("fileUrl", _upload!.Element);
        if (url is null)
        {
            Snackbar.Add("The browser lost the file; choose it again.", Severity.Error);
            return;
        }
        await RevokeUploadUrlAsync();
        _source = new Source(decoded.Width, decoded.Height, url, null, decoded);
        _sourceLabel = upload.Header is { } header && (header.Width, header.Height) != (decoded.Width, decoded.Height) && (header.Height, header.Width) != (decoded.Width, decoded.Height)
            ? $"Uploaded {file.Name} ({header.Width} × {header.Height}, reduced)"
            : $"Uploaded {file.Name}";
        _result = null;
        _job = null;
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
            var (width, height) = WorkingSize;
            var request = new InpaintJobRequest
            {
                Model = _modelId,
                SourceImageId = _source.ImageId,
                UploadedSource = _source.Upload,
                MaskPng = mask,
                MaskBlur = _maskBlur,
                MaskedContent = _maskedContent,
                OnlyMasked = _onlyMasked,
                Padding = _padding,
                IdempotencyKey = _submitKey,
                Request = new GenerationRequest
                {
                    Prompt = _prompt,
                    NegativePrompt = _negative,
                    Steps = _steps,
                    GuidanceScale = CurrentModel?.Traits?.Defaults.Guidance ?? 7,
                    Scheduler = CurrentModel?.Traits?.IsLcm == true ? SchedulerKind.Lcm : CurrentModel?.Traits?.Defaults.Scheduler ?? SchedulerKind.EulerAncestral,
                    Width = width,
                    Height = height,
                    Seed = _seed,
                    Strength = _strength,
                },
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
            if (await Generation.GetJobAsync(_user, result.JobId!.Value, _leaving.Token) is { } view)
            {
                _job = JobCardState.From(view);
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
            Logger.LogError(ex, "Submitting an inpainting job failed");
            Snackbar.Add("The job could not be queued. Your mask and prompt are still here; try again.", Severity.Error);
        }
        finally
        {
            _submitting = false;
        }
    }

    private async Task CancelAsync(Guid jobId)
    {
        if (await Generation.CancelAsync(_user, jobId, _leaving.Token) == CancelOutcome.Stopping && _job is not null)
        {
            _job.Stopping = true;
        }
    }

    private Task OnJobEventAsync(JobEvent jobEvent) => jobEvent.JobId != _job?.Id ? Task.CompletedTask : InvokeAsync(async () =>
    {
        try
        {
            var job = _job!;
            switch (jobEvent)
            {
                case JobCompleted completed:
                    if (await Generation.GetJobAsync(_user, completed.JobId, _leaving.Token) is { } view)
                    {
                        job.Apply(view);
                        job.PreviewUrl = null;
                    }
                    if (completed.ImageIds.Count > 0 && _source is not null)
                    {
                        _result = new Result(completed.ImageIds[0], _source.Url);
                        _split = 50;
                    }
                    break;
                case JobFailed failed:
                    job.Apply(failed);
                    Snackbar.Add($"Inpainting failed: {failed.Error}", Severity.Error);
                    break;
                default:
                    job.Apply(jobEvent);
                    break;
            }
            StateHasChanged();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Logger.LogWarning(ex, "Applying {Event} failed", jobEvent.GetType().Name);
        }
    });

    private void SplitChanged(ChangeEventArgs e)
    {
        if (int.TryParse(e.Value?.ToString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var split))
        {
            _split = Math.Clamp(split, 0, 100);
        }
    }

    private void ContinueEditing()
    {
        if (_result is { } result)
        {
            Navigation.NavigateTo($"/inpaint?image={result.Id}");
        }
    }

    private async Task RevokeUploadUrlAsync()
    {
        if (_source?.Upload is not null && _module is not null)
        {
            try
            {
                await _module.InvokeVoidAsync("revokeUrl", _source.Url);
            }
            catch (JSDisconnectedException)
            {
                // The browser is gone and took the URL with it.
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        await RevokeUploadUrlAsync();
        await _leaving.CancelAsync();
        _leaving.Dispose();
        if (_module is not null)
        {
            try
            {
                await _module.DisposeAsync();
            }
            catch (JSDisconnectedException)
            {
                // Gone with the browser.
            }
        }
    }

    /// <summary>
    /// The image being edited: a gallery image (by id) or an upload (read by <see cref="ImageUploads"/> and kept at its
    /// reduced size; the browser shows the original file from an object URL, drawn at that size, so the mask lines up).
    /// </summary>
    private sealed record Source(int Width, int Height, string Url, Guid? ImageId, RgbImage? Upload);

    /// <summary>The finished image and what it started from.</summary>
    private sealed record Result(Guid Id, string BeforeUrl);
}
