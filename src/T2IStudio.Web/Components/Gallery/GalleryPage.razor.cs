using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web.Virtualization;
using Microsoft.JSInterop;
using MudBlazor;
using T2IStudio.Web.Access;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Images;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Components.Gallery;

/// <summary>
/// The person's images: a virtualized grid (rows of as many tiles as fit) that loads pages as it scrolls,
/// with prompt search, filters, a lightbox, and live updates when a job of theirs finishes.
/// </summary>
public sealed partial class GalleryPage
{
    private const int TileWidth = 200;
    private const int Gap = 8;
    private readonly CancellationTokenSource _leaving = new();
    private System.Security.Claims.ClaimsPrincipal _user = new();
    private IDisposable? _subscription;
    private IJSObjectReference? _module;
    private IJSObjectReference? _observer;
    private DotNetObjectReference<GalleryPage>? _self;
    private ElementReference _gridElement;
    private Virtualize<IReadOnlyList<ImageTile>>? _virtualize;

    private IReadOnlyList<string> _models = [];
    private string _search = "";
    private string _model = "";
    private int _days;
    private bool _favoritesOnly;
    private int? _total;
    private int _columns = 4;
    private float _rowHeight = TileWidth + Gap;
    private Guid? _open;
    private Guid? _galleryId;
    private readonly List<Components.Jobs.JobCardState> _jobs = [];
    private IReadOnlyList<GallerySummary> _galleries = [];
    private IReadOnlyList<TeamSummary> _teams = [];
    private bool _creating;
    private string _newName = "";
    private Guid? _newTeam;
    private bool _renaming;
    private IDisposable? _visit;
    private IReadOnlyList<PresentPerson> _present = [];
    private string _rename = "";

    /// <summary>A named gallery to open (<c>?g=</c>); none shows the person's own images.</summary>
    [SupplyParameterFromQuery(Name = "g")] public Guid? GalleryQuery { get; set; }

    [Inject] private GalleryService Galleries { get; set; } = null!;

    [Inject] private TeamService Teams { get; set; } = null!;

    [Inject] private NavigationManager Navigation { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Inject] private T2IStudio.Web.Jobs.GenerationService Generation { get; set; } = null!;

    [Inject] private IDialogService Dialogs { get; set; } = null!;

    [Inject] private GalleryPresence Presence { get; set; } = null!;

    [Inject] private IAuthorizationService Authorization { get; set; } = null!;

    [Inject] private EventAudience Audience { get; set; } = null!;

    private GallerySummary? Current => _galleries.FirstOrDefault(g => g.Id == _galleryId);

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    [Inject] private ImageLibrary Library { get; set; } = null!;

    [Inject] private StudioNotifier Events { get; set; } = null!;

    [Inject] private IJSRuntime JS { get; set; } = null!;

    [Inject] private TimeProvider Time { get; set; } = null!;

    [Inject] private ILogger<GalleryPage> Logger { get; set; } = null!;

    private bool IsFiltered => _search.Length > 0 || _model.Length > 0 || _days > 0 || _favoritesOnly;

    private string RowStyle => $"grid-template-columns: repeat({_columns}, minmax(0, 1fr));";

    private GalleryFilter Filter => new(_search, _model.Length == 0 ? null : _model,
        _days == 0 ? null : Time.GetUtcNow().Date.AddDays(1 - _days), _favoritesOnly);

    protected override async Task OnInitializedAsync()
    {
        _user = (await AuthenticationState).User;
        _models = await Library.ModelsAsync(_user, _leaving.Token);
        _galleries = await Galleries.ListAsync(_user, _leaving.Token);
        _teams = await Teams.MyTeamsAsync(_user, _leaving.Token);
        if (GalleryQuery is { } wanted)
        {
            if (!await Authorization.AllowsAsync(_user, wanted, GalleryOperations.View))
            {
                // Someone else's gallery reads exactly like a missing one.
                Navigation.NotFound();
                return;
            }
            _galleryId = wanted;
        }
        _total = (await PageAsync(0, 1)).Total;
    }

    /// <summary>The person's own images, or the chosen gallery's.</summary>
    private Task<(IReadOnlyList<ImageTile> Tiles, int Total)> PageAsync(int skip, int take, CancellationToken cancellationToken = default) =>
        _galleryId is { } galleryId
            ? Galleries.PageAsync(_user, galleryId, Filter, skip, take, cancellationToken)
            : Library.PageAsync(_user, Filter, skip, take, cancellationToken);

    /// <summary>Jobs saving into the open gallery show here while they run, for everyone who sees the gallery.</summary>
    private async Task FollowJobAsync(JobEvent jobEvent)
    {
        try
        {
            var card = _jobs.FirstOrDefault(j => j.Id == jobEvent.JobId);
            if (card is null)
            {
                if (jobEvent is JobCompleted or JobFailed or JobCanceled
                    || await Generation.GetJobAsync(_user, jobEvent.JobId, _leaving.Token) is not { } view || view.GalleryId != _galleryId)
                {
                    return;
                }
                card = Components.Jobs.JobCardState.From(view);
                _jobs.Insert(0, card);
            }
            card.Apply(jobEvent);
            if (jobEvent is JobCompleted or JobFailed or JobCanceled)
            {
                _jobs.Remove(card);
            }
            StateHasChanged();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Logger.LogWarning(ex, "Following job {JobId} failed", jobEvent.JobId);
        }
    }

    /// <summary>Shows this page in the open gallery's presence (and leaves the previous one).</summary>
    private async Task JoinAsync()
    {
        _visit?.Dispose();
        _visit = null;
        _present = [];
        if (_galleryId is not { } galleryId || ResourceAccess.UserId(_user) is not { } userId)
        {
            return;
        }
        if (!await Authorization.AllowsAsync(_user, galleryId, GalleryOperations.View))
        {
            return;
        }
        var audience = await Audience.OfGalleryAsync(galleryId, _leaving.Token);
        var name = _user.FindFirst(Auth.StudioClaimsPrincipalFactory.DisplayNameClaim)?.Value ?? _user.Identity?.Name ?? "Someone";
        _visit = Presence.Join(galleryId, new PresentPerson(userId, name), audience);
        _present = Others(galleryId);
    }

    private IReadOnlyList<PresentPerson> Others(Guid galleryId) =>
        [.. Presence.Who(galleryId).Where(p => p.UserId != ResourceAccess.UserId(_user))];

    private static string Initials(string name) =>
        string.Concat(name.Split([' ', '.', '_', '-'], StringSplitOptions.RemoveEmptyEntries).Take(2).Select(part => char.ToUpperInvariant(part[0])));

    private async Task GalleryChangedAsync(Guid? galleryId)
    {
        _jobs.Clear();
        _galleryId = galleryId;
        await JoinAsync();
        _open = null;
        Navigation.NavigateTo(galleryId is null ? "/gallery" : $"/gallery?g={galleryId}", replace: true);
        await RefreshAsync();
    }

    private void StartRename()
    {
        _rename = Current?.Name ?? "";
        _renaming = true;
    }

    private async Task RenameAsync()
    {
        var result = await Galleries.RenameAsync(_user, _galleryId!.Value, _rename, _leaving.Token);
        if (!result.Succeeded)
        {
            Snackbar.Add(result.Errors.Count > 0 ? result.Errors[0] : "That gallery is gone.", Severity.Error);
            return;
        }
        _renaming = false;
        _galleries = await Galleries.ListAsync(_user, _leaving.Token);
    }

    private async Task DeleteGalleryAsync()
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("Delete this gallery?",
            "The gallery goes for everyone who sees it. The images in it stay with the people who made them.", yesText: "Delete gallery", cancelText: "Keep it");
        if (confirmed != true)
        {
            return;
        }
        var result = await Galleries.DeleteAsync(_user, _galleryId!.Value, _leaving.Token);
        if (!result.Succeeded)
        {
            Snackbar.Add(result.Errors.Count > 0 ? result.Errors[0] : "That gallery is gone.", Severity.Error);
            return;
        }
        _galleries = await Galleries.ListAsync(_user, _leaving.Token);
        await GalleryChangedAsync(null);
    }

    private async Task CreateGalleryAsync()
    {
        var result = await Galleries.CreateAsync(_user, _newName, _newTeam, _leaving.Token);
        if (!result.Succeeded)
        {
            Snackbar.Add(result.Errors.Count > 0 ? result.Errors[0] : "That team is gone.", Severity.Error);
            return;
        }
        _creating = false;
        _newName = "";
        _galleries = await Galleries.ListAsync(_user, _leaving.Token);
        await GalleryChangedAsync(result.Id);
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }
        if (ResourceAccess.UserId(_user) is { } userId)
        {
            _subscription = Events.Subscribe(userId, OnEventAsync);
        }
        await JoinAsync();
        try
        {
            _self = DotNetObjectReference.Create(this);
            _module = await JS.InvokeAsync<IJSObjectReference>("import", "./Components/Gallery/GalleryPage.razor.js");
            _observer = await _module.InvokeAsync<IJSObjectReference>("observeColumns", _gridElement, _self, TileWidth);
        }
        catch (JSDisconnectedException)
        {
            // The circuit went away during the first render.
        }
        catch (TaskCanceledException)
        {
            // Same, mid-call.
        }
    }

    /// <summary>Called by the page's script with the number of columns that fit.</summary>
    [JSInvokable]
    public async Task SetColumns(int columns, int width)
    {
        columns = Math.Clamp(columns, 1, 12);
        _rowHeight = (float)(width - (columns - 1) * Gap) / columns + Gap;
        if (columns != _columns)
        {
            _columns = columns;
            await RefreshAsync();
        }
    }

    private async ValueTask<ItemsProviderResult<IReadOnlyList<ImageTile>>> LoadRowsAsync(ItemsProviderRequest request)
    {
        var columns = _columns;
        var (tiles, total) = await PageAsync(request.StartIndex * columns, request.Count * columns, request.CancellationToken);
        if (total != _total)
        {
            _total = total;
            _ = InvokeAsync(StateHasChanged);
        }
        var rows = tiles.Chunk(columns).Select(r => (IReadOnlyList<ImageTile>)r).ToList();
        return new ItemsProviderResult<IReadOnlyList<ImageTile>>(rows, (total + columns - 1) / columns);
    }

    private async Task RefreshAsync()
    {
        _total = (await PageAsync(0, 1, _leaving.Token)).Total;
        if (_virtualize is not null)
        {
            await _virtualize.RefreshDataAsync();
        }
        StateHasChanged();
    }

    private async Task SearchChangedAsync(string? value)
    {
        _search = value?.Trim() ?? "";
        await RefreshAsync();
    }

    private async Task ModelChangedAsync(string? value)
    {
        _model = value ?? "";
        await RefreshAsync();
    }

    private async Task DaysChangedAsync(int days)
    {
        _days = days;
        await RefreshAsync();
    }

    private async Task FavoritesChangedAsync(bool value)
    {
        _favoritesOnly = value;
        await RefreshAsync();
    }

    private void Open(Guid id) => _open = id;

    private async Task NavigateAsync(bool older)
    {
        if (_galleryId is null && _open is { } current && await Library.NeighbourAsync(_user, current, Filter, older, _leaving.Token) is { } next)
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
        if (studioEvent is JobEvent jobEvent && _galleryId is not null)
        {
            return InvokeAsync(() => FollowJobAsync(jobEvent));
        }
        if (studioEvent is PresenceChanged presence)
        {
            return presence.GalleryId != _galleryId ? Task.CompletedTask : InvokeAsync(() =>
            {
                _present = Others(presence.GalleryId);
                StateHasChanged();
            });
        }
        var relevant = studioEvent switch
        {
            GalleryChanged => _galleryId is null,
            GalleryUpdated updated => updated.GalleryId == _galleryId,
            TeamChanged changed => changed.Removed && Current?.TeamId == changed.TeamId,
            _ => false,
        };
        return !relevant ? Task.CompletedTask : InvokeAsync(async () =>
        {
            try
            {
                if (studioEvent is TeamChanged)
                {
                    // Removed from the team: its gallery closes here, with a word why.
                    Snackbar.Add($"You are no longer a member of {Current?.TeamName}; its gallery is closed.", Severity.Warning);
                    _galleries = await Galleries.ListAsync(_user, _leaving.Token);
                    await GalleryChangedAsync(null);
                    return;
                }
                if (studioEvent is GalleryUpdated)
                {
                    _galleries = await Galleries.ListAsync(_user, _leaving.Token);
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
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Logger.LogWarning(ex, "Refreshing the gallery failed");
            }
        });
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        _visit?.Dispose();
        await _leaving.CancelAsync();
        _leaving.Dispose();
        try
        {
            if (_observer is not null)
            {
                await _observer.InvokeVoidAsync("dispose");
                await _observer.DisposeAsync();
            }
            if (_module is not null)
            {
                await _module.DisposeAsync();
            }
        }
        catch (JSDisconnectedException)
        {
            // The browser is gone; nothing to release there.
        }
        _self?.Dispose();
    }
}
