using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;

namespace T2IStudio.Web.Components.Teams;

/// <summary>One team: its members and their roles, invitations (owners invite, change roles and remove people), and leaving it.</summary>
public sealed partial class TeamPage : IDisposable
{
    private static readonly TeamRole[] Roles = [TeamRole.Owner, TeamRole.Editor, TeamRole.Viewer];
    private System.Security.Claims.ClaimsPrincipal _user = new();
    private string? _userId;
    private TeamDetails? _team;
    private IDisposable? _subscription;
    private string _email = "";
    private TeamRole _role = TeamRole.Viewer;
    private bool _busy;
    private int _tab;

    [Inject] private TeamService TeamService { get; set; } = default!;

    [Inject] private StudioNotifier Events { get; set; } = default!;

    [Inject] private NavigationManager Navigation { get; set; } = default!;

    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    /// <summary>The team shown.</summary>
    [Parameter] public Guid TeamId { get; set; }

    /// <summary>The tab to open (<c>?tab=</c>): members, styles, limits or activity; members when absent.</summary>
    [SupplyParameterFromQuery(Name = "tab")] public string? Tab { get; set; }

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    private bool IsOwner => _team?.MyRole == TeamRole.Owner;

    protected override async Task OnParametersSetAsync()
    {
        _user = (await AuthenticationState).User;
        _userId = ResourceAccess.UserId(_user);
        _tab = Tab?.ToLowerInvariant() switch
        {
            "styles" => 1,
            "limits" => 2,
            "activity" => 3,
            _ => 0,
        };
        await LoadAsync();
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && _userId is not null)
        {
            _subscription = Events.Subscribe(_userId, OnEventAsync);
        }
    }

    private async Task OnEventAsync(StudioEvent studioEvent)
    {
        if (studioEvent is not TeamChanged changed || changed.TeamId != TeamId)
        {
            return;
        }
        try
        {
            await InvokeAsync(() => OnTeamChangedAsync(changed));
        }
        catch (ObjectDisposedException)
        {
            // The circuit closed between the event and the render.
        }
        catch (Exception ex)
        {
            // The page's own failure, not the notifier's: the circuit's error handling shows it.
            await DispatchExceptionAsync(ex);
        }
    }

    private async Task LoadAsync()
    {
        _team = await TeamService.GetAsync(_user, TeamId);
        if (_team is null)
        {
            // Not a member (or no such team): the same answer either way.
            Navigation.NotFound();
        }
    }

    private async Task OnTeamChangedAsync(TeamChanged changed)
    {
        if (changed.Removed)
        {
            Snackbar.Add($"You are no longer a member of {_team?.Name ?? "that team"}.", Severity.Warning);
            Navigation.NavigateTo("/teams");
            return;
        }
        _team = await TeamService.GetAsync(_user, TeamId) ?? _team;
        StateHasChanged();
    }

    private Task InviteAsync() => RunAsync(() => TeamService.InviteAsync(_user, TeamId, _email, _role), () => _email = "");

    private Task RevokeAsync(PendingInvitation invitation) => RunAsync(() => TeamService.RevokeInvitationAsync(_user, TeamId, invitation.Id), null);

    private Task ChangeRoleAsync(TeamMemberView member, TeamRole role) => RunAsync(() => TeamService.ChangeRoleAsync(_user, TeamId, member.UserId, role), null);

    private Task RemoveAsync(TeamMemberView member) => RunAsync(() => TeamService.RemoveMemberAsync(_user, TeamId, member.UserId), null);

    private async Task LeaveAsync()
    {
        var result = await TeamService.LeaveAsync(_user, TeamId);
        if (result.Succeeded)
        {
            Snackbar.Add($"You left {_team?.Name}.", Severity.Info);
            Navigation.NavigateTo("/teams");
        }
        else
        {
            Snackbar.Add(result.FirstErrorOr("That team is gone."), Severity.Error);
        }
    }

    private async Task RunAsync(Func<Task<ChangeResult>> change, Action? onSuccess)
    {
        if (_busy)
        {
            return;
        }
        _busy = true;
        try
        {
            var result = await change();
            if (result.NotFound)
            {
                Snackbar.Add("You are no longer a member of this team.", Severity.Warning);
                Navigation.NavigateTo("/teams");
                return;
            }
            if (!result.Succeeded)
            {
                Snackbar.Add(result.Errors[0], Severity.Error);
                return;
            }
            onSuccess?.Invoke();
            if (result.Message is { } message)
            {
                Snackbar.Add(message, Severity.Success);
            }
            _team = await TeamService.GetAsync(_user, TeamId) ?? _team;
        }
        finally
        {
            _busy = false;
        }
    }

    private static string Article(TeamRole role) => role == TeamRole.Viewer ? "a" : "an";

    /// <inheritdoc />
    public void Dispose() => _subscription?.Dispose();
}
