using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;
using MudBlazor;
using T2IStudio.Web.Auth;

namespace T2IStudio.Web.Components.Admin;

/// <summary>Admin → Users: every account with its role and status; disable, re-enable, and invite links.</summary>
public sealed partial class Users
{
    // On the <table> itself (MudTable puts plain attributes on its wrapper div), so assistive technology names the table.
    private static readonly Dictionary<string, object> TableLabel = new(StringComparer.Ordinal) { ["aria-label"] = "Users" };

    private IReadOnlyList<UserSummary>? _users;
    private bool _loading;
    private bool _busy;
    private string? _currentUserId;
    private InviteLinkCreated? _inviteLink;

    [Inject] private AccountAdministration Accounts { get; set; } = default!;

    [Inject] private IOptionsMonitor<AccountOptions> AccountSettings { get; set; } = default!;

    [Inject] private NavigationManager Navigation { get; set; } = default!;

    [Inject] private T2IStudio.Web.Email.StudioMail Mail { get; set; } = default!;

    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    private string RegistrationText => AccountSettings.CurrentValue.Registration switch
    {
        RegistrationMode.InviteOnly => "by invitation only: a team invitation for the email, or an invite link",
        RegistrationMode.Closed => "closed",
        _ => "open to anyone who can reach this address",
    };

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _currentUserId = (await AuthenticationState).User.FindFirstValue(ClaimTypes.NameIdentifier);
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        _loading = true;
        try
        {
            _users = await Accounts.ListUsersAsync();
        }
        finally
        {
            _loading = false;
        }
    }

    private async Task CreateInviteLinkAsync()
    {
        if (_currentUserId is null || _busy)
        {
            return;
        }
        _busy = true;
        try
        {
            _inviteLink = await Accounts.CreateInviteLinkAsync(_currentUserId, Navigation.ToAbsoluteUri("/Account/Register"));
            Snackbar.Add("Invite link created. Copy it now.", Severity.Success);
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task SetDisabledAsync(UserSummary user, bool disabled)
    {
        if (_currentUserId is null)
        {
            return;
        }
        _busy = true;
        try
        {
            var result = await Accounts.SetDisabledAsync(_currentUserId, user.Id, disabled);
            Snackbar.Add(result.Message, result.Succeeded ? Severity.Success : Severity.Error);
            await LoadAsync();
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task ResetTwoFactorAsync(UserSummary user)
    {
        if (_currentUserId is null || _busy)
        {
            return;
        }
        _busy = true;
        try
        {
            var result = await Accounts.ResetTwoFactorAsync(_currentUserId, user.Id);
            Snackbar.Add(result.Message, result.Succeeded ? Severity.Success : Severity.Error);
            await LoadAsync();
        }
        finally
        {
            _busy = false;
        }
    }
}
