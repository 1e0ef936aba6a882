using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using T2IStudio.Web.Access;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Images;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Components.Gallery;

/// <summary>
/// The person's images, or a named gallery's: which gallery (<see cref="GalleryManagement"/>, with who else is
/// looking), the filters, the count or an empty state, the grid of tiles and the lightbox; live updates when a job
/// lands in it or the gallery changes.
/// </summary>
public sealed partial class GalleryPage : IAsyncDisposable
{
    private readonly CancellationTokenSource _leaving = new();
    private System.Security.Claims.ClaimsPrincipal _user = new();
    private IDisposable? _subscription;
    private GalleryGrid? _grid;
    private IReadOnlyList<string> _models = [];
    private GalleryFilterChoice _filter = new();
    private int? _total;
    private Guid? _open;
    private Guid? _galleryId;
    private IReadOnlyList<GallerySummary> _galleries = [];
    private (Guid? Gallery, Guid? Image)? _applied;

    /// <summary>A named gallery to open (<c>?g=</c>); none shows the person's own images.</summary>
    [SupplyParameterFromQuery(Name = "g")] public Guid? GalleryQuery { get; set; }

    /// <summary>An image to open in the viewer at once (<c>?image=</c>), as links from the activity feed and notifications do.</summary>
    [SupplyParameterFromQuery(Name = "image")] public Guid? ImageQuery { get; set; }

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    [Inject] private GalleryService Galleries { get; set; } = null!;

    [Inject] private ImageLibrary Library { get; set; } = null!;

    [Inject] private NavigationManager Navigation { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Inject] private IAuthorizationService Authorization { get; set; } = null!;

    [Inject] private StudioNotifier Events { get; set; } = null!;

    [Inject] private TimeProvider Time { get; set; } = null!;

    private GallerySummary? Current => _galleries.FirstOrDefault(g => g.Id == _galleryId);

    /// <inheritdoc />
    protected override async Task OnInitializedAsync()
    {
        _user = (await AuthenticationState).User;
        _models = await Library.ModelsAsync(_user, _leaving.Token);
        _galleries = await Galleries.ListAsync(_user, _leaving.Token);
    }

    /// <summary>
    /// Opens the gallery and image the address names (<c>?g=</c>, <c>?image=</c>): on arrival, and again when a link
    /// on this very page (a notification's, say) changes only the query, which reuses the page.
    /// </summary>
    protected override async Task OnParametersSetAsync()
    {
        var wanted = (GalleryQuery, ImageQuery);
        if (_applied == wanted)
        {
            return;
        }
        var arriving = _applied is null;
        _applied = wanted;
        if (!arriving && GalleryQuery == _galleryId && ImageQuery is null)
        {
            // The page's own navigation after a change of gallery: nothing new to open.
            return;
        }
        if (!arriving)
        {
            await ReloadGalleriesAsync();
        }
        if (GalleryQuery is { } gallery && !await Authorization.AllowsAsync(_user, gallery, GalleryOperations.View))
        {
            // Someone else's gallery reads exactly like a missing one.
            Navigation.NotFound();
            return;
        }
        if (ImageQuery is { } image && await Library.GetAsync(_user, image, _leaving.Token) is null)
        {
            // A link (a notification, the activity feed) to an image the person may not see reads like a missing one.
            Navigation.NotFound();
            return;
        }
        _galleryId = GalleryQuery;
        _open = ImageQuery;
        if (arriving)
        {
            _total = (await PageAsync(0, 1)).Total;
        }
        else
        {
            await RefreshAsync();
        }
    }

    /// <inheritdoc />
    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && ResourceAccess.UserId(_user) is { } userId)
        {
            _subscription = Events.Subscribe(userId, OnEventAsync);
        }
    }

    /// <summary>The person's own images, or the chosen gallery's, as the filters stand now.</summary>
    private Task<(IReadOnlyList<ImageTile> Tiles, int Total)> PageAsync(int skip, int take, CancellationToken cancellationToken = default)
    {
        var filter = _filter.ToFilter(Time.GetUtcNow());
        return _galleryId is { } galleryId
            ? Galleries.PageAsync(_user, galleryId, filter, skip, take, cancellationToken)
            : Library.PageAsync(_user, filter, skip, take, cancellationToken);
    }

    private async Task GalleryChangedAsync(Guid? galleryId)
    {
        _galleryId = galleryId;
        _open = null;
        // The review filter belongs to the gallery it was chosen in.
        _filter = _filter with { Review = null };
        Navigation.NavigateTo(galleryId is null ? "/gallery" : $"/gallery?g={galleryId}", replace: true);
        await RefreshAsync();
    }

    private async Task ReloadGalleriesAsync()
    {
        _galleries = await Galleries.ListAsync(_user, _leaving.Token);
        if (Current?.ReviewRequired != true)
        {
            // Review switched off: its filter would hide images with no way to clear it.
            _filter = _filter with { Review = null };
        }
    }

    /// <summary>The gallery was renamed, deleted or had review switched on or off here: its tiles and filters follow.</summary>
    private async Task GalleriesChangedAsync()
    {
        await ReloadGalleriesAsync();
        await RefreshAsync();
    }

    private async Task FilterChangedAsync(GalleryFilterChoice filter)
    {
        _filter = filter;
        await RefreshAsync();
    }

    private async Task RefreshAsync()
    {
        _total = (await PageAsync(0, 1, _leaving.Token)).Total;
        if (_grid is not null)
        {
            await _grid.RefreshAsync();
        }
        StateHasChanged();
    }

    private void Open(Guid id) => _open = id;

    private async Task NavigateAsync(bool older)
    {
        if (_galleryId is null && _open is { } current
            && await Library.NeighbourAsync(_user, current, _filter.ToFilter(Time.GetUtcNow()), older, _leaving.Token) is { } next)
        {
            _open = next;
        }
    }

    private async Task DeletedAsync(Guid id)
    {
        _open = null;
        await RefreshAsync();
    }

    private Task OnEventAsync(StudioEvent studioEvent)
    {
        var relevant = studioEvent switch
        {
            GalleryChanged => _galleryId is null,
            // A review also sends GalleryUpdated for its gallery, so the grid and its badges refresh once, here.
            GalleryUpdated updated => updated.GalleryId == _galleryId,
            TeamChanged changed => changed.Removed && Current?.TeamId == changed.TeamId,
            _ => false,
        };
        return !relevant ? Task.CompletedTask : InvokeAsync(async () =>
        {
            try
            {
                await FollowGalleryAsync(studioEvent);
            }
            catch (OperationCanceledException) when (_leaving.IsCancellationRequested)
            {
                // The page closed while it refreshed.
            }
            catch (Exception ex)
            {
                await DispatchExceptionAsync(ex);
            }
        });
    }

    /// <summary>A change to what the page shows: new images, review states, the open gallery renamed or deleted, or its team left.</summary>
    private async Task FollowGalleryAsync(StudioEvent studioEvent)
    {
        if (studioEvent is TeamChanged)
        {
            // Removed from the team: its gallery closes here, with a word why.
            Snackbar.Add($"You are no longer a member of {Current?.TeamName}; its gallery is closed.", Severity.Warning);
            await ReloadGalleriesAsync();
            await GalleryChangedAsync(null);
            return;
        }
        if (studioEvent is GalleryUpdated)
        {
            await ReloadGalleriesAsync();
            if (Current is null)
            {
                Snackbar.Add("This gallery was deleted.", Severity.Warning);
                await GalleryChangedAsync(null);
                return;
            }
        }
        _models = await Library.ModelsAsync(_user, _leaving.Token);
        await RefreshAsync();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        await _leaving.CancelAsync();
        // Cancelled, not disposed: work queued just before the page left still reads its token.
    }
}
