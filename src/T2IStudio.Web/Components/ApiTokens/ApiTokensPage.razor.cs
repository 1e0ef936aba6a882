using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.JSInterop;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Api;
using T2IStudio.Web.Components.Shared;

namespace T2IStudio.Web.Components.ApiTokens;

/// <summary>The choices of the "Expires" field.</summary>
public enum ApiTokenLifetime
{
    /// <summary>A week.</summary>
    Days7,

    /// <summary>A month.</summary>
    Days30,

    /// <summary>A quarter.</summary>
    Days90,

    /// <summary>A year (365 days, inside the service's limit).</summary>
    Year1,

    /// <summary>Until revoked.</summary>
    Never,
}

/// <summary>
/// Account → API tokens: make a personal access token (its secret shown this once, with a copy button), see
/// the person's tokens with their scope, use and status, and revoke one.
/// </summary>
public sealed partial class ApiTokensPage : IDisposable
{
    private static readonly ApiTokenLifetime[] Lifetimes = Enum.GetValues<ApiTokenLifetime>();

    private readonly CancellationTokenSource _leaving = new();
    private IReadOnlyList<ApiTokenSummary>? _tokens;
    private ClaimsPrincipal _user = new();
    private DateTimeOffset _now;
    private string? _name;
    private ApiTokenLifetime _lifetime = ApiTokenLifetime.Days90;
    private ApiTokenScope _scope = ApiTokenScope.Read;
    private string? _nameError;
    private string? _expiresError;
    private string? _scopeError;
    private bool _busy;
    private ApiTokenCreated? _created;

    [Inject] private ApiTokenService Tokens { get; set; } = default!;

    [Inject] private TimeProvider Time { get; set; } = default!;

    [Inject] private IJSRuntime JS { get; set; } = default!;

    [Inject] private IDialogService Dialogs { get; set; } = default!;

    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    /// <summary>How the "Expires" field words a choice.</summary>
    public static string LifetimeText(ApiTokenLifetime lifetime) => lifetime switch
    {
        ApiTokenLifetime.Days7 => "7 days",
        ApiTokenLifetime.Days30 => "30 days",
        ApiTokenLifetime.Days90 => "90 days",
        ApiTokenLifetime.Year1 => "1 year",
        _ => "Never",
    };

    /// <summary>When a token made at <paramref name="now"/> with <paramref name="lifetime"/> stops working; null for never.</summary>
    public static DateTimeOffset? ExpiryOf(ApiTokenLifetime lifetime, DateTimeOffset now) => lifetime switch
    {
        ApiTokenLifetime.Days7 => now.AddDays(7),
        ApiTokenLifetime.Days30 => now.AddDays(30),
        ApiTokenLifetime.Days90 => now.AddDays(90),
        ApiTokenLifetime.Year1 => now.AddDays(365),
        _ => null,
    };

    protected override async Task OnInitializedAsync()
    {
        _user = (await AuthenticationState).User;
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        _tokens = await Tokens.ListAsync(_user, _leaving.Token);
        _now = Time.GetUtcNow();
    }

    private async Task NameKeyDownAsync(KeyboardEventArgs e)
    {
        if (e.Key == "Enter")
        {
            await CreateAsync();
        }
    }

    private async Task CreateAsync()
    {
        if (_busy)
        {
            return;
        }
        _busy = true;
        _nameError = _expiresError = _scopeError = null;
        try
        {
            var result = await Tokens.CreateAsync(_user, _name ?? "", _scope, ExpiryOf(_lifetime, Time.GetUtcNow()), _leaving.Token);
            if (result.Created is { } created)
            {
                _created = created;
                _name = null;
                await LoadAsync();
                return;
            }
            switch (result.Field)
            {
                case "name":
                    _nameError = result.Error;
                    break;
                case "expires":
                    _expiresError = result.Error;
                    break;
                case "scope":
                    _scopeError = result.Error;
                    break;
                default:
                    Snackbar.Add(result.Error ?? "The token could not be made.", Severity.Error);
                    break;
            }
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task CopyAsync()
    {
        if (_created is not null)
        {
            await JS.CopySecretAsync(Snackbar, _created.Secret, "Token", "token");
        }
    }

    private async Task RevokeAsync(ApiTokenSummary token)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync($"Revoke \"{token.Name}\"?",
            "Anything using this token is refused from its next request. This cannot be undone.", yesText: "Revoke", cancelText: "Keep it");
        if (confirmed != true)
        {
            return;
        }
        _busy = true;
        try
        {
            var revoked = await Tokens.RevokeAsync(_user, token.Id, _leaving.Token);
            Snackbar.Add(revoked ? $"Token \"{token.Name}\" revoked." : $"Token \"{token.Name}\" was revoked already.", revoked ? Severity.Success : Severity.Info);
            if (_created?.Token.Id == token.Id)
            {
                _created = null;
            }
            await LoadAsync();
        }
        finally
        {
            _busy = false;
        }
    }

    /// <summary>Stops the page's database calls when the person leaves.</summary>
    public void Dispose()
    {
        _leaving.Cancel();
        _leaving.Dispose();
    }
}
