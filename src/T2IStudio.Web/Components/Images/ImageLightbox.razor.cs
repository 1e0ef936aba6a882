using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Components.Shared;
using T2IStudio.Web.Images;

namespace T2IStudio.Web.Components.Images;

/// <summary>
/// The image viewer: a dialog that loads one image (once) and hands it to its parts — the picture and its details
/// (<see cref="ImageViewer"/>), the review in a reviewed gallery (<see cref="ImageReview"/>), the comments
/// (<see cref="ImageComments"/>), the lineage (<see cref="ImageLineage"/>)
/// and the actions (<see cref="ImageActions"/>), each of which loads only its own data, side by side. The shell
/// itself owns the title, ←/→/Escape, previous and next, Close and focus.
/// </summary>
public sealed partial class ImageLightbox
{
    /// <summary>How many images "Variations" queues.</summary>
    public const int VariationCount = ImageActions.VariationCount;

    private readonly DialogOptions _options = new() { MaxWidth = MaxWidth.Large, FullWidth = true, CloseOnEscapeKey = true, CloseButton = true };
    private GeneratedImage? _image;
    private Guid? _loaded;
    private bool _missing;
    private ElementReference _keys;
    private ImageReview? _review;

    /// <summary>The image to show; null closes the viewer.</summary>
    [Parameter] public Guid? ImageId { get; set; }

    /// <summary>Shows ‹ › buttons and takes ←/→.</summary>
    [Parameter] public bool ShowNavigation { get; set; } = true;

    /// <summary>Raised when the viewer closes.</summary>
    [Parameter] public EventCallback OnClose { get; set; }

    /// <summary>Raised with true for the next (older) image and false for the previous (newer) one.</summary>
    [Parameter] public EventCallback<bool> OnNavigate { get; set; }

    /// <summary>The named gallery the image is shown in, if any (offers "Remove from gallery" to its editors).</summary>
    [Parameter] public Guid? GalleryId { get; set; }

    /// <summary>Raised with another image's id to show it instead (its parent or a child).</summary>
    [Parameter] public EventCallback<Guid> OnOpenImage { get; set; }

    /// <summary>Raised after the image was deleted.</summary>
    [Parameter] public EventCallback<Guid> OnDeleted { get; set; }

    /// <summary>Raised after the favourite star changed.</summary>
    [Parameter] public EventCallback<GeneratedImage> OnChanged { get; set; }

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    [Inject] private ImageLibrary Library { get; set; } = null!;

    /// <inheritdoc />
    protected override async Task OnParametersSetAsync()
    {
        if (ImageId == _loaded)
        {
            return;
        }
        _loaded = ImageId;
        _image = null;
        _missing = false;
        if (ImageId is { } id)
        {
            var image = await Library.GetAsync((await AuthenticationState).User, id);
            if (_loaded != id)
            {
                // Another image was asked for while this one loaded; its own load shows it.
                return;
            }
            _image = image;
            _missing = image is null;
        }
    }

    /// <summary>Focuses the viewer's key wrapper once the image's markup is in the page (it renders through the dialog provider).</summary>
    private async Task FocusKeysAsync()
    {
        if (_keys.Context is not null)
        {
            await _keys.TryFocusAsync();
        }
    }

    private static string Title(GeneratedImage image) => image.Prompt.Length > 60 ? image.Prompt[..60] + "…" : image.Prompt.Length == 0 ? "Image" : image.Prompt;

    private async Task OnKeyDownAsync(KeyboardEventArgs e)
    {
        switch (e.Key)
        {
            case "ArrowLeft" when ShowNavigation:
                await OnNavigate.InvokeAsync(false);
                break;
            case "ArrowRight" when ShowNavigation:
                await OnNavigate.InvokeAsync(true);
                break;
            case "Escape":
                await CloseAsync();
                break;
            default:
                if (_review is not null)
                {
                    await _review.HandleKeyAsync(e);
                }
                break;
        }
    }

    private Task VisibleChangedAsync(bool visible) => visible ? Task.CompletedTask : CloseAsync();

    private Task CloseAsync() => OnClose.InvokeAsync();
}
