using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;
using Feed = T2IStudio.Web.Teams.TeamActivityFeed;

namespace T2IStudio.Web.Components.Teams;

/// <summary>
/// The team page's "Activity" tab: what happened in the team's galleries and membership, newest first, as sentences
/// with links; pages of 30 behind "Load more"; new entries come in at the top while it is open, without losing
/// the pages already loaded.
/// </summary>
public sealed partial class TeamActivityFeed : IAsyncDisposable
{
    /// <summary>How much of a comment an entry quotes.</summary>
    internal const int QuoteLength = 80;

    private readonly CancellationTokenSource _leaving = new();
    private readonly HashSet<Guid> _seen = [];
    private List<TeamActivityEntry> _entries = [];
    private System.Security.Claims.ClaimsPrincipal _user = new();
    private IDisposable? _subscription;
    private bool _loading = true;
    private bool _loadingMore;
    private bool _hasMore;
    private bool _heardWhileLoading;
    private Guid _loadedTeam;

    /// <summary>The team.</summary>
    [Parameter, EditorRequired] public Guid TeamId { get; set; }

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    [Inject] private Feed Activity { get; set; } = null!;

    [Inject] private StudioNotifier Events { get; set; } = null!;

    [Inject] private TimeProvider Time { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    /// <inheritdoc />
    protected override async Task OnParametersSetAsync()
    {
        if (_loadedTeam == TeamId)
        {
            return;
        }
        _loadedTeam = TeamId;
        _user = (await AuthenticationState).User;
        await LoadFirstPageAsync();
    }

    /// <inheritdoc />
    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && ResourceAccess.UserId(_user) is { } userId)
        {
            _subscription = Events.Subscribe(userId, OnEventAsync);
        }
    }

    private async Task LoadFirstPageAsync()
    {
        _loading = true;
        try
        {
            var page = await Activity.PageAsync(_user, TeamId, before: null, Feed.PageSize, _leaving.Token) ?? [];
            _entries = [.. page];
            _seen.Clear();
            _seen.UnionWith(page.Select(e => e.Id));
            _hasMore = page.Count == Feed.PageSize;
        }
        finally
        {
            _loading = false;
        }
        if (_heardWhileLoading)
        {
            // An entry written while the first page was read may have missed it.
            _heardWhileLoading = false;
            await PrependNewAsync();
        }
    }

    private async Task LoadMoreAsync()
    {
        if (_loadingMore || _entries.Count == 0)
        {
            return;
        }
        _loadingMore = true;
        try
        {
            var page = await Activity.PageAsync(_user, TeamId, _entries[^1].Position, Feed.PageSize, _leaving.Token);
            if (page is null)
            {
                Snackbar.Add("You are no longer a member of this team.", Severity.Warning);
                _hasMore = false;
                return;
            }
            _entries.AddRange(page.Where(e => _seen.Add(e.Id)));
            _hasMore = page.Count == Feed.PageSize;
        }
        finally
        {
            _loadingMore = false;
        }
    }

    private Task OnEventAsync(StudioEvent studioEvent) =>
        studioEvent is not TeamActivityAdded added || added.TeamId != TeamId ? Task.CompletedTask : InvokeAsync(async () =>
        {
            try
            {
                await PrependNewAsync();
                StateHasChanged();
            }
            catch (OperationCanceledException) when (_leaving.IsCancellationRequested)
            {
                // The tab closed while it read.
            }
            catch (Exception ex)
            {
                await DispatchExceptionAsync(ex);
            }
        });

    /// <summary>Reads what is newer than the top entry and puts it above; the pages already loaded stay.</summary>
    private async Task PrependNewAsync()
    {
        if (_loading)
        {
            _heardWhileLoading = true;
            return;
        }
        if (_entries.Count == 0)
        {
            await LoadFirstPageAsync();
            return;
        }
        IReadOnlyList<TeamActivityEntry>? newer;
        do
        {
            newer = await Activity.NewerAsync(_user, TeamId, _entries[0].Position, Feed.PageSize, _leaving.Token);
            if (newer is null)
            {
                // No longer a member: the team page itself says so and leaves.
                return;
            }
            var fresh = newer.Where(e => _seen.Add(e.Id)).ToList();
            if (fresh.Count == 0)
            {
                return;
            }
            // Two events can read overlapping batches; the feed stays in its one order either way.
            _entries = [.. fresh.Concat(_entries).OrderByDescending(e => e.At).ThenBy(e => e.Id)];
        }
        while (newer.Count == Feed.PageSize);
    }

    /// <summary>The sentence an entry reads as, around its gallery's name (which the markup links).</summary>
    /// <param name="Lead">Who the sentence is about (the actor; for joins and leaves, the member).</param>
    /// <param name="Before">The words between the lead and the gallery's name.</param>
    /// <param name="Gallery">The gallery's name, when the sentence names one.</param>
    /// <param name="After">The words after it.</param>
    internal sealed record Sentence(string Lead, string Before, string? Gallery, string After)
    {
        /// <summary>The whole sentence as plain text.</summary>
        public override string ToString() => $"{Lead} {Before}{Gallery}{After}";
    }

    /// <summary>How <paramref name="entry"/> reads: "Ana generated 4 images into Client X".</summary>
    internal static Sentence Describe(TeamActivityEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var gallery = string.IsNullOrEmpty(entry.GalleryName) ? "a gallery" : entry.GalleryName;
        var subject = entry.SubjectName ?? "someone";
        return entry.Kind switch
        {
            TeamActivityKind.Generated => new(entry.ActorName, $"generated {entry.Detail ?? "images"} into ", gallery, ""),
            TeamActivityKind.Added => new(entry.ActorName, "added an image to ", gallery, ""),
            TeamActivityKind.Removed => new(entry.ActorName, "removed an image from ", gallery, ""),
            TeamActivityKind.Reviewed => entry.Detail switch
            {
                nameof(ReviewState.Approved) => new(entry.ActorName, "approved an image in ", gallery, ""),
                nameof(ReviewState.ChangesRequested) => new(entry.ActorName, "requested changes to an image in ", gallery, ""),
                nameof(ReviewState.NeedsReview) => new(entry.ActorName, "marked an image in ", gallery, " as needing review"),
                _ => new(entry.ActorName, "reviewed an image in ", gallery, ""),
            },
            TeamActivityKind.Commented => new(entry.ActorName, "commented on an image in ", gallery,
                string.IsNullOrWhiteSpace(entry.Detail) ? "" : $": “{Quote(entry.Detail)}”"),
            TeamActivityKind.MemberJoined => new(subject, "joined the team", null, ""),
            TeamActivityKind.MemberLeft => entry.SubjectIsActor
                ? new(subject, "left the team", null, "")
                : new(entry.ActorName, $"removed {subject} from the team", null, ""),
            _ => new(entry.ActorName, "did something in the team", null, ""),
        };
    }

    /// <summary>A comment's first words, cut at a word where it is long.</summary>
    private static string Quote(string text)
    {
        var flat = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (flat.Length <= QuoteLength)
        {
            return flat;
        }
        var cut = flat.LastIndexOf(' ', QuoteLength);
        return flat[..(cut > QuoteLength / 2 ? cut : QuoteLength)] + "…";
    }

    /// <summary>Where an entry leads: its image in the gallery, or the gallery; null when the reader cannot open it.</summary>
    internal static string? LinkOf(TeamActivityEntry entry) =>
        !entry.CanOpenGallery || entry.GalleryId is not { } galleryId ? null
        : entry.ImageId is { } imageId ? $"/gallery?g={galleryId}&image={imageId}"
        : $"/gallery?g={galleryId}";

    private static string IconOf(TeamActivityEntry entry) => entry.Kind switch
    {
        TeamActivityKind.Generated => Icons.Material.Outlined.AutoAwesome,
        TeamActivityKind.Added => Icons.Material.Outlined.AddPhotoAlternate,
        TeamActivityKind.Removed => Icons.Material.Outlined.RemoveCircleOutline,
        TeamActivityKind.Reviewed => entry.Detail switch
        {
            nameof(ReviewState.Approved) => Icons.Material.Outlined.CheckCircle,
            nameof(ReviewState.ChangesRequested) => Icons.Material.Outlined.ChangeCircle,
            _ => Icons.Material.Outlined.RateReview,
        },
        TeamActivityKind.Commented => Icons.Material.Outlined.ChatBubbleOutline,
        TeamActivityKind.MemberJoined => Icons.Material.Outlined.PersonAdd,
        TeamActivityKind.MemberLeft => Icons.Material.Outlined.PersonRemove,
        _ => Icons.Material.Outlined.History,
    };

    private static Color ColorOf(TeamActivityEntry entry) => entry.Kind switch
    {
        TeamActivityKind.Generated => Color.Primary,
        TeamActivityKind.Reviewed when entry.Detail == nameof(ReviewState.Approved) => Color.Success,
        TeamActivityKind.Reviewed when entry.Detail == nameof(ReviewState.ChangesRequested) => Color.Warning,
        TeamActivityKind.Removed or TeamActivityKind.MemberLeft => Color.Default,
        _ => Color.Secondary,
    };

    private static string Initials(string name) =>
        string.Concat(name.Split([' ', '.', '_', '-', '@'], StringSplitOptions.RemoveEmptyEntries).Take(2).Select(part => char.ToUpperInvariant(part[0])));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        await _leaving.CancelAsync();
        // Cancelled, not disposed: a read queued just before the tab closed still reads its token.
    }
}
