using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Components.Images;

/// <summary>
/// An image's review in the gallery it is shown in, when that gallery has review on: its state with who set it and
/// when, and for the gallery's owners and editors "Approve" and "Request changes" (keys A and R through
/// <see cref="HandleKeyAsync"/>, which the viewer calls). Viewers see the state only. It follows
/// <see cref="ReviewChanged"/> for this image and <see cref="GalleryUpdated"/> for its gallery (review switched on or
/// off), so a teammate's review shows at once. Renders nothing elsewhere.
/// </summary>
public sealed partial class ImageReview : IDisposable
{
    private (Guid Image, Guid? Gallery)? _loaded;
    private ReviewView? _review;
    private bool _busy;
    private IDisposable? _subscription;

    /// <summary>The image shown.</summary>
    [Parameter, EditorRequired] public Guid ImageId { get; set; }

    /// <summary>The gallery it is shown in; none (the person's own images) shows no review.</summary>
    [Parameter] public Guid? GalleryId { get; set; }

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    [Inject] private ReviewService Reviews { get; set; } = null!;

    [Inject] private StudioNotifier Events { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Inject] private ILogger<ImageReview> Logger { get; set; } = null!;

    /// <summary>The person may set the state here (the viewer's keys do something).</summary>
    public bool CanReview => _review?.CanReview == true;

    /// <summary>
    /// The viewer's key handler hands keys here: A approves, R requests changes, for those who may review and only
    /// with no modifier down (Ctrl+A still selects text). True when the key was used.
    /// </summary>
    public async Task<bool> HandleKeyAsync(KeyboardEventArgs e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!CanReview || _busy || e.CtrlKey || e.AltKey || e.MetaKey || e.ShiftKey || e.Repeat)
        {
            return false;
        }
        ReviewState? state = e.Key switch
        {
            "a" or "A" => ReviewState.Approved,
            "r" or "R" => ReviewState.ChangesRequested,
            _ => null,
        };
        if (state is not { } wanted)
        {
            return false;
        }
        await SetAsync(wanted);
        StateHasChanged();
        return true;
    }

    /// <inheritdoc />
    protected override async Task OnParametersSetAsync()
    {
        var key = (ImageId, GalleryId);
        if (_loaded == key)
        {
            return;
        }
        _loaded = key;
        _review = null;
        _subscription?.Dispose();
        _subscription = null;
        if (GalleryId is not { } galleryId)
        {
            return;
        }
        var user = (await AuthenticationState).User;
        if (ResourceAccess.UserId(user) is { } userId)
        {
            var imageId = ImageId;
            _subscription = Events.Subscribe(userId, e => e switch
            {
                ReviewChanged changed when changed.GalleryId == galleryId && changed.ImageId == imageId => InvokeAsync(ReloadOnEventAsync),
                GalleryUpdated updated when updated.GalleryId == galleryId => InvokeAsync(ReloadOnEventAsync),
                _ => Task.CompletedTask,
            });
        }
        var review = await Reviews.GetAsync(user, galleryId, ImageId);
        if (_loaded == key)
        {
            _review = review;
        }
    }

    private async Task ReloadAsync()
    {
        if (_loaded is not { Gallery: { } galleryId } key)
        {
            return;
        }
        var review = await Reviews.GetAsync((await AuthenticationState).User, galleryId, key.Image);
        if (_loaded == key)
        {
            _review = review;
        }
    }

    // Pushed from another circuit's change; the viewer sits outside the page's error boundary, so a failed refresh
    // is said in a snackbar (the state stays as it was) rather than thrown at the circuit.
    private async Task ReloadOnEventAsync()
    {
        try
        {
            await ReloadAsync();
            StateHasChanged();
        }
        catch (Exception ex) when (ex is Microsoft.EntityFrameworkCore.DbUpdateException or System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            LogRefreshFailed(Logger, ex);
            Snackbar.Add("The review state could not be refreshed; reopen the image to see it.", Severity.Warning);
        }
    }

    private async Task SetAsync(ReviewState state)
    {
        if (_loaded is not { Gallery: { } galleryId } key || _busy)
        {
            return;
        }
        _busy = true;
        try
        {
            var result = await Reviews.SetStateAsync((await AuthenticationState).User, galleryId, key.Image, state);
            if (!result.Succeeded)
            {
                Snackbar.Add(result.FirstErrorOr("This image is no longer in the gallery."), Severity.Error);
            }
            await ReloadAsync();
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or Microsoft.EntityFrameworkCore.DbUpdateException or TimeoutException)
        {
            // The keys reach here through the viewer's handler, outside the viewer's error boundary: say it, keep the circuit.
            LogSetFailed(Logger, ex);
            Snackbar.Add("The review could not be saved; try again.", Severity.Error);
        }
        finally
        {
            _busy = false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Setting a review state failed")]
    private static partial void LogSetFailed(ILogger logger, Exception ex);

    private static string Pressed(ReviewView review, ReviewState state) => review.State == state ? "true" : "false";

    private static Color ColorOf(ReviewState state) => state switch
    {
        ReviewState.Approved => Color.Success,
        ReviewState.ChangesRequested => Color.Warning,
        _ => Color.Default,
    };

    private static string IconOf(ReviewState state) => state switch
    {
        ReviewState.Approved => Icons.Material.Outlined.CheckCircle,
        ReviewState.ChangesRequested => Icons.Material.Outlined.Feedback,
        _ => Icons.Material.Outlined.HourglassEmpty,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing an image's review failed")]
    private static partial void LogRefreshFailed(ILogger logger, Exception ex);

    /// <inheritdoc />
    public void Dispose()
    {
        _subscription?.Dispose();
        _subscription = null;
    }
}
