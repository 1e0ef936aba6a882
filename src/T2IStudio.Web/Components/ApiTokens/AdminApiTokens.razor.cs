using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using T2IStudio.Data;
using T2IStudio.Web.Api;

namespace T2IStudio.Web.Components.ApiTokens;

/// <summary>The Admin page's "API tokens" section: everyone's tokens with their owner, and a revoke for each active one.</summary>
public sealed partial class AdminApiTokens : IDisposable
{
    private readonly CancellationTokenSource _leaving = new();
    private IReadOnlyList<ApiTokenSummary>? _tokens;
    private ClaimsPrincipal _user = new();
    private DateTimeOffset _now;
    private bool _isAdmin;
    private bool _busy;

    [Inject] private ApiTokenService Tokens { get; set; } = default!;

    [Inject] private TimeProvider Time { get; set; } = default!;

    [Inject] private IDialogService Dialogs { get; set; } = default!;

    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _user = (await AuthenticationState).User;
        // The page around it is admin-only already; the section checks for itself (as the navigation's Admin link does)
        // so it is safe wherever it is placed, and the service checks the database again.
        _isAdmin = _user.IsInRole(AppDbContext.AdminRole);
        if (_isAdmin)
        {
            await LoadAsync();
        }
    }

    private async Task LoadAsync()
    {
        _tokens = await Tokens.ListAllAsync(_user, _leaving.Token);
        _now = Time.GetUtcNow();
    }

    private async Task RevokeAsync(ApiTokenSummary token)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync($"Revoke \"{token.Name}\" of {token.OwnerEmail}?",
            "Anything using this token is refused from its next request. Its owner can make a new one.", yesText: "Revoke", cancelText: "Keep it");
        if (confirmed != true)
        {
            return;
        }
        _busy = true;
        try
        {
            var revoked = await Tokens.RevokeAsync(_user, token.Id, _leaving.Token);
            Snackbar.Add(revoked ? $"Token \"{token.Name}\" of {token.OwnerEmail} revoked." : $"Token \"{token.Name}\" was revoked already.",
                revoked ? Severity.Success : Severity.Info);
            await LoadAsync();
        }
        finally
        {
            _busy = false;
        }
    }

    /// <summary>Stops the section's database calls when the admin leaves.</summary>
    public void Dispose()
    {
        _leaving.Cancel();
        _leaving.Dispose();
    }
}
