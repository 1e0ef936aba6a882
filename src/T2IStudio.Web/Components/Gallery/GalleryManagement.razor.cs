using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Teams;

namespace T2IStudio.Web.Components.Gallery;

/// <summary>
/// Which gallery the page shows (the person's own images or a named gallery, with whose it is), and the forms to
/// create one, rename it and delete it. The page holds the list and the choice; this raises changes to both.
/// </summary>
public sealed partial class GalleryManagement : IDisposable
{
    private readonly CancellationTokenSource _leaving = new();
    private ClaimsPrincipal _user = new();
    private IReadOnlyList<TeamSummary> _teams = [];
    private bool _creating;

    private string _newName = "";
    private Guid? _newTeam;
    private bool _renaming;
    private string _rename = "";
    private bool _switchingReview;

    /// <summary>The galleries the person can see, as the page last loaded them.</summary>
    [Parameter] public IReadOnlyList<GallerySummary> Galleries { get; set; } = [];

    /// <summary>The open gallery; null for the person's own images.</summary>
    [Parameter] public Guid? GalleryId { get; set; }

    /// <summary>Raised with the gallery to open: one chosen in the list, a new one, or null after a delete.</summary>
    [Parameter] public EventCallback<Guid?> GalleryIdChanged { get; set; }

    /// <summary>Raised after a gallery was created, renamed or deleted, before any change of gallery: the page reloads <see cref="Galleries"/>.</summary>
    [Parameter] public EventCallback OnGalleriesChanged { get; set; }

    /// <summary>Shown beside the open gallery's chip (who else is looking at it).</summary>
    [Parameter] public RenderFragment? ChildContent { get; set; }

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    [Inject] private GalleryService GalleryService { get; set; } = null!;

    [Inject] private TeamService Teams { get; set; } = null!;

    [Inject] private ReviewService Review { get; set; } = null!;

    [Inject] private IDialogService Dialogs { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    /// <summary>The Gallery list: my images, then each gallery.</summary>
    private IEnumerable<Guid?> GalleryChoices => Galleries.Select(g => (Guid?)g.Id).Prepend(null);

    private string GalleryLabel(Guid? id) => id is null ? "My images" : Galleries.FirstOrDefault(g => g.Id == id)?.Label ?? "";

    private GallerySummary? Current => Galleries.FirstOrDefault(g => g.Id == GalleryId);

    /// <inheritdoc />
    protected override async Task OnInitializedAsync()
    {
        _user = (await AuthenticationState).User;
        _teams = await Teams.MyTeamsAsync(_user, _leaving.Token);
    }

    private void StartRename()
    {
        _rename = Current?.Name ?? "";
        _renaming = true;
    }

    private async Task RenameAsync()
    {
        var result = await GalleryService.RenameAsync(_user, GalleryId!.Value, _rename, _leaving.Token);
        if (!result.Succeeded)
        {
            Snackbar.Add(result.FirstErrorOr("That gallery is gone."), Severity.Error);
            return;
        }
        _renaming = false;
        await OnGalleriesChanged.InvokeAsync();
    }

    private async Task ReviewRequiredChangedAsync(bool required)
    {
        _switchingReview = true;
        try
        {
            var result = await Review.SetReviewRequiredAsync(_user, GalleryId!.Value, required, _leaving.Token);
            if (!result.Succeeded)
            {
                Snackbar.Add(result.FirstErrorOr("That gallery is gone."), Severity.Error);
                return;
            }
            Snackbar.Add(required ? "Review is on: new and unreviewed images need review." : "Review is off.", Severity.Success);
            await OnGalleriesChanged.InvokeAsync();
        }
        finally
        {
            _switchingReview = false;
        }
    }

    private async Task DeleteAsync()
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("Delete this gallery?",
            "The gallery goes for everyone who sees it. The images in it stay with the people who made them.", yesText: "Delete gallery", cancelText: "Keep it");
        if (confirmed != true)
        {
            return;
        }
        var result = await GalleryService.DeleteAsync(_user, GalleryId!.Value, _leaving.Token);
        if (!result.Succeeded)
        {
            Snackbar.Add(result.FirstErrorOr("That gallery is gone."), Severity.Error);
            return;
        }
        await OnGalleriesChanged.InvokeAsync();
        await GalleryIdChanged.InvokeAsync(null);
    }

    private async Task CreateAsync()
    {
        var result = await GalleryService.CreateAsync(_user, _newName, _newTeam, _leaving.Token);
        if (!result.Succeeded)
        {
            Snackbar.Add(result.FirstErrorOr("That team is gone."), Severity.Error);
            return;
        }
        _creating = false;
        _newName = "";
        await OnGalleriesChanged.InvokeAsync();
        await GalleryIdChanged.InvokeAsync(result.Id);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _leaving.Cancel();
        // Cancelled, not disposed: work queued just before the page left still reads its token.
    }
}
