using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;

namespace T2IStudio.Web.Components.Teams;

/// <summary>The person's teams and the invitations waiting for their answer; creating a team.</summary>
public sealed partial class TeamsPage : IDisposable
{
    private IReadOnlyList<TeamSummary>? _teams;
    private IReadOnlyList<MyInvitation>? _invitations;
    private bool _creating;
    private bool _busy;
    private bool _mustConfirmEmail;
    private string _name = "";

    [Inject] private TeamService TeamService { get; set; } = default!;

    [Inject] private StudioNotifier Events { get; set; } = default!;

    [Inject] private NavigationManager Navigation { get; set; } = default!;

    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    /// <summary>The invitation an email's link opens (<c>/teams?invitation={id}</c>): shown first, highlighted.</summary>
    [SupplyParameterFromQuery(Name = "invitation")] private Guid? InvitationId { get; set; }

    /// <summary>
    /// The link named an invitation that is not (or no longer) this person's: say so without telling whose it was,
    /// so someone signed in with another account knows to switch.
    /// </summary>
    private bool OpenedInvitationMissing => !_mustConfirmEmail && InvitationId is { } id && _invitations is not null && _invitations.All(i => i.Id != id) && !_answered.Contains(id);

    private readonly HashSet<Guid> _answered = [];

    private IDisposable? _subscription;

    protected override Task OnInitializedAsync() => LoadAsync();

    private async Task LoadAsync()
    {
        var user = (await AuthenticationState).User;
        _mustConfirmEmail = await TeamService.MustConfirmEmailForInvitationsAsync(user);
        _invitations = await TeamService.MyInvitationsAsync(user);
        _teams = await TeamService.MyTeamsAsync(user);
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender && ResourceAccess.UserId((await AuthenticationState).User) is { } userId)
        {
            // Invited, joined or removed while looking at the list: it updates in place.
            _subscription = Events.Subscribe(userId, OnEventAsync);
        }
    }

    private async Task OnEventAsync(StudioEvent studioEvent)
    {
        if (studioEvent is not (TeamChanged or TeamInvitationsChanged))
        {
            return;
        }
        try
        {
            await InvokeAsync(async () =>
            {
                await LoadAsync();
                StateHasChanged();
            });
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

    /// <inheritdoc />
    public void Dispose() => _subscription?.Dispose();

    private IEnumerable<MyInvitation> OpenedFirst(IReadOnlyList<MyInvitation> invitations) =>
        invitations.OrderBy(i => i.Id == InvitationId ? 0 : 1);

    private async Task NameKeyDownAsync(KeyboardEventArgs e)
    {
        if (e.Key == "Enter")
        {
            await CreateAsync();
        }
    }

    private async Task AnswerAsync(MyInvitation invitation, bool accept)
    {
        if (_busy)
        {
            return;
        }
        _busy = true;
        try
        {
            var user = (await AuthenticationState).User;
            var result = accept ? await TeamService.AcceptInvitationAsync(user, invitation.Id) : await TeamService.DeclineInvitationAsync(user, invitation.Id);
            if (result.Succeeded)
            {
                _answered.Add(invitation.Id);
                Snackbar.Add(result.Message ?? "Done.", accept ? Severity.Success : Severity.Info);
            }
            else
            {
                Snackbar.Add("That invitation was revoked or already answered.", Severity.Warning);
            }
            await LoadAsync();
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task CreateAsync()
    {
        if (_busy)
        {
            return;
        }
        _busy = true;
        try
        {
            var result = await TeamService.CreateAsync((await AuthenticationState).User, _name);
            if (!result.Succeeded)
            {
                Snackbar.Add(result.FirstErrorOr("The team could not be created."), Severity.Error);
                return;
            }
            Navigation.NavigateTo($"/teams/{result.Id}");
        }
        finally
        {
            _busy = false;
        }
    }
}
