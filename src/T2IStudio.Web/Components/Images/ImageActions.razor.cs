using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Upscaling;
using T2IStudio.Web.Access;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;

namespace T2IStudio.Web.Components.Images;

/// <summary>
/// What one can do with an image: star it, add it to a gallery or take it out of this one, reuse its parameters,
/// inpaint it, queue variations, download it, delete it. Loads only what its buttons need (the star, the
/// galleries one may add to, how many galleries hold it, whether one may change this gallery); a click that
/// needs one of those waits for it.
/// </summary>
public sealed partial class ImageActions
{
    /// <summary>How many images "Variations" queues.</summary>
    public const int VariationCount = 4;

    /// <summary>The factors "Upscale" offers.</summary>
    public static readonly int[] UpscaleFactors = [2, 4];

    /// <summary>The greyed-out Upscale button's tooltip when no upscaler is installed.</summary>
    public const string NoUpscalerText = "No upscaler installed: put one under models/upscalers/";

    private UpscalerInfo? _upscaler;

    private (Guid Image, Guid? Gallery)? _requested;
    private Task _loading = Task.CompletedTask;
    private StoredRequest? _stored;
    private string? _userId;
    private bool _favorite;
    private int _galleriesHolding;
    private IReadOnlyList<GallerySummary> _writable = [];
    private bool _canChangeGallery;
    private bool _busy;

    /// <summary>The image to act on.</summary>
    [Parameter, EditorRequired] public GeneratedImage Image { get; set; } = null!;

    /// <summary>The named gallery the image is shown in, if any (offers "Remove from gallery" to its editors).</summary>
    [Parameter] public Guid? GalleryId { get; set; }

    /// <summary>Raised after the image was deleted, or taken out of <see cref="GalleryId"/>.</summary>
    [Parameter] public EventCallback<Guid> OnDeleted { get; set; }

    /// <summary>Raised after the favourite star changed.</summary>
    [Parameter] public EventCallback<GeneratedImage> OnChanged { get; set; }

    /// <summary>Controls after the actions, in the same row (the viewer's Close).</summary>
    [Parameter] public RenderFragment? ChildContent { get; set; }

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    [Inject] private ImageLibrary Library { get; set; } = null!;

    [Inject] private GalleryService Galleries { get; set; } = null!;

    [Inject] private GenerationService Generation { get; set; } = null!;

    [Inject] private IAuthorizationService Authorization { get; set; } = null!;

    [Inject] private IDialogService Dialogs { get; set; } = null!;

    [Inject] private T2IStudio.Generation.Models.ModelHost Models { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Inject] private ILogger<ImageActions> Logger { get; set; } = null!;

    /// <summary>Only the owner deletes or shares an image; teammates see (and star) it through a gallery.</summary>
    private bool IsMine => _userId is not null && Image.OwnerId == _userId;

    /// <inheritdoc />
    protected override Task OnParametersSetAsync()
    {
        ArgumentNullException.ThrowIfNull(Image);
        var requested = (Image.Id, GalleryId);
        if (requested == _requested)
        {
            return Task.CompletedTask;
        }
        _requested = requested;
        _stored = GenerationMetadata.ReadStoredRequest(Image.RequestJson);
        _upscaler = Models.Upscalers.List().FirstOrDefault(u => u.IsAvailable);
        _loading = LoadAsync(requested);
        return _loading;
    }

    private async Task LoadAsync((Guid Image, Guid? Gallery) requested)
    {
        var user = (await AuthenticationState).User;
        var userId = ResourceAccess.UserId(user);
        var mine = userId is not null && Image.OwnerId == userId;
        // Each service call opens its own context, so the four reads run side by side.
        var favorite = Library.IsFavoriteAsync(user, requested.Image);
        var writable = mine ? Galleries.WritableAsync(user) : Task.FromResult<IReadOnlyList<GallerySummary>>([]);
        var holding = mine ? Galleries.CountHoldingAsync(user, requested.Image) : Task.FromResult(0);
        var canChange = requested.Gallery is { } galleryId ? Authorization.AllowsAsync(user, galleryId, GalleryOperations.AddImages) : Task.FromResult(false);
        await Task.WhenAll(favorite, writable, holding, canChange);
        if (_requested == requested)
        {
            _userId = userId;
            _favorite = await favorite;
            _writable = await writable;
            _galleriesHolding = await holding;
            _canChangeGallery = await canChange;
        }
    }

    private async Task ToggleFavoriteAsync()
    {
        await _loading;
        var image = Image;
        var user = (await AuthenticationState).User;
        if (await Library.SetFavoriteAsync(user, image.Id, !_favorite))
        {
            _favorite = !_favorite;
            await OnChanged.InvokeAsync(image);
        }
    }

    private async Task AddToGalleryAsync(GallerySummary gallery)
    {
        var user = (await AuthenticationState).User;
        var result = await Galleries.AddAsync(user, gallery.Id, Image.Id);
        Snackbar.Add(result.Succeeded ? $"Added to {gallery.Label}." : result.FirstErrorOr("That gallery is gone."),
            result.Succeeded ? Severity.Success : Severity.Error);
    }

    private async Task RemoveFromGalleryAsync()
    {
        if (GalleryId is not { } galleryId)
        {
            return;
        }
        var user = (await AuthenticationState).User;
        var id = Image.Id;
        var result = await Galleries.RemoveAsync(user, galleryId, id);
        if (result.Succeeded)
        {
            Snackbar.Add("Removed from this gallery; the image itself stays.", Severity.Info);
            await OnDeleted.InvokeAsync(id);
        }
        else
        {
            Snackbar.Add(result.FirstErrorOr("It is no longer in this gallery."), Severity.Warning);
        }
    }

    private async Task VariationsAsync()
    {
        if (_stored is not { } stored)
        {
            return;
        }
        _busy = true;
        try
        {
            var user = (await AuthenticationState).User;
            // The image's own parameters through the one form model, with a fresh seed and a batch of them.
            var variations = GenerationSettings.FromStored(stored);
            variations.Seed = Seeds.NewRandom();
            variations.BatchSize = VariationCount;
            var result = await Generation.SubmitAsync(user, variations.ToJob());
            if (result.Succeeded)
            {
                Snackbar.Add($"{VariationCount} variations queued — they appear on Create and here in the gallery.", Severity.Success);
            }
            else
            {
                Snackbar.Add(result.Errors[0], Severity.Error);
            }
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task UpscaleAsync(int factor)
    {
        _busy = true;
        try
        {
            var user = (await AuthenticationState).User;
            var result = await Generation.SubmitUpscaleAsync(user, Image.Id, factor, _upscaler?.Id);
            if (result.Succeeded)
            {
                Snackbar.Add($"Upscale ×{factor} queued — the larger image appears on Create, in the gallery and in this image's lineage.", Severity.Success);
            }
            else
            {
                Snackbar.Add(result.Errors[0], Severity.Error);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DbUpdateException or InvalidOperationException)
        {
            // The circuit outlives a failed submit: say so and let the person try again.
            LogUpscaleFailed(Logger, ex, Image.Id);
            Snackbar.Add("The upscale could not be queued; try again later.", Severity.Error);
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task DeleteAsync()
    {
        await _loading;
        var id = Image.Id;
        var shared = _galleriesHolding > 0;
        var confirmed = await Dialogs.ShowMessageBoxAsync("Delete this image?",
            shared ? "It leaves your images; the galleries that hold it keep it until they remove it." : "The image and its file are deleted for good.",
            yesText: "Delete", cancelText: "Keep it");
        if (confirmed != true)
        {
            return;
        }
        var user = (await AuthenticationState).User;
        if (await Library.DeleteAsync(user, id))
        {
            Snackbar.Add("Image deleted.", Severity.Info);
            await OnDeleted.InvokeAsync(id);
        }
        else
        {
            Snackbar.Add("That image is already gone.", Severity.Warning);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Queuing an upscale of image {ImageId} failed")]
    private static partial void LogUpscaleFailed(ILogger logger, Exception exception, Guid imageId);
}
