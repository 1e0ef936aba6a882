using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using T2IStudio.Web.Access;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Components.Gallery;

/// <summary>
/// "Also here": shows this page in the open gallery's presence while it is open, and the avatars of the others
/// looking at the same gallery, following them as they come and go.
/// </summary>
public sealed partial class GalleryPresenceBar : IDisposable
{
    private readonly CancellationTokenSource _leaving = new();
    private ClaimsPrincipal _user = new();
    private IDisposable? _subscription;
    private IDisposable? _visit;
    private ITimer? _refresh;
    private Guid? _joined;
    private bool _rendered;
    private int _reads;
    private IReadOnlyList<PresentPerson> _present = [];

    /// <summary>The open gallery; null (the person's own images) shows no one.</summary>
    [Parameter] public Guid? GalleryId { get; set; }

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    [Inject] private GalleryPresence Presence { get; set; } = null!;

    [Inject] private IAuthorizationService Authorization { get; set; } = null!;

    [Inject] private EventAudience Audience { get; set; } = null!;

    [Inject] private StudioNotifier Events { get; set; } = null!;

    [Inject] private Cluster.IClusterBus Cluster { get; set; } = null!;

    [Inject] private TimeProvider Time { get; set; } = null!;

    /// <inheritdoc />
    protected override async Task OnInitializedAsync() => _user = (await AuthenticationState).User;

    /// <inheritdoc />
    protected override async Task OnParametersSetAsync()
    {
        // Only once interactive: a prerendered page would otherwise stand in the gallery with no one to leave it.
        if (_rendered && GalleryId != _joined)
        {
            await JoinAsync();
        }
    }

    /// <inheritdoc />
    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }
        _rendered = true;
        if (ResourceAccess.UserId(_user) is { } userId)
        {
            _subscription = Events.Subscribe(userId, OnEventAsync);
        }
        if (Cluster.Status.State != T2IStudio.Web.Cluster.ClusterLinkState.Alone)
        {
            // Nobody announces a node that died: its visitors drop out when its share expires, seen at a re-read.
            _refresh = Time.CreateTimer(_ => _ = RefreshAsync(), null, GalleryPresence.RefreshInterval, GalleryPresence.RefreshInterval);
        }
        await JoinAsync();
        StateHasChanged();
    }

    /// <summary>Shows this page in the open gallery's presence (and leaves the previous one).</summary>
    private async Task JoinAsync()
    {
        _visit?.Dispose();
        _visit = null;
        _present = [];
        _joined = GalleryId;
        if (GalleryId is not { } galleryId || ResourceAccess.UserId(_user) is not { } userId)
        {
            return;
        }
        if (!await Authorization.AllowsAsync(_user, galleryId, GalleryOperations.View))
        {
            return;
        }
        var audience = await Audience.OfGalleryAsync(galleryId, _leaving.Token);
        if (_joined != galleryId)
        {
            // Another gallery was opened while this one's audience loaded.
            return;
        }
        var name = _user.FindFirst(Auth.StudioClaimsPrincipalFactory.DisplayNameClaim)?.Value ?? _user.Identity?.Name ?? "Someone";
        _visit = Presence.Join(galleryId, new PresentPerson(userId, name), audience);
        await ReadOthersAsync(galleryId);
    }

    private Task OnEventAsync(StudioEvent studioEvent) =>
        studioEvent is not PresenceChanged presence || presence.GalleryId != GalleryId ? Task.CompletedTask : InvokeAsync(async () =>
        {
            await ReadOthersAsync(presence.GalleryId);
            StateHasChanged();
        });

    private async Task RefreshAsync()
    {
        if (_joined is not { } galleryId || _leaving.IsCancellationRequested)
        {
            return;
        }
        try
        {
            await InvokeAsync(async () =>
            {
                var before = _present;
                await ReadOthersAsync(galleryId);
                if (!before.SequenceEqual(_present))
                {
                    StateHasChanged();
                }
            });
        }
        catch (ObjectDisposedException)
        {
            // The circuit went away between two ticks.
        }
    }

    /// <summary>Reads who else is here (on every node); of reads that overlap, only the latest one shows.</summary>
    private async Task ReadOthersAsync(Guid galleryId)
    {
        var read = ++_reads;
        IReadOnlyList<PresentPerson> everyone;
        try
        {
            everyone = await Presence.WhoAsync(galleryId, _leaving.Token);
        }
        catch (OperationCanceledException) when (_leaving.IsCancellationRequested)
        {
            return; // the page closed
        }
        if (read == _reads && _joined == galleryId)
        {
            _present = [.. everyone.Where(p => p.UserId != ResourceAccess.UserId(_user))];
        }
    }

    private static string Initials(string name) =>
        string.Concat(name.Split([' ', '.', '_', '-'], StringSplitOptions.RemoveEmptyEntries).Take(2).Select(part => char.ToUpperInvariant(part[0])));

    /// <inheritdoc />
    public void Dispose()
    {
        _subscription?.Dispose();
        _refresh?.Dispose();
        _visit?.Dispose();
        _leaving.Cancel();
        // Cancelled, not disposed: work queued just before the page left still reads its token.
    }
}
