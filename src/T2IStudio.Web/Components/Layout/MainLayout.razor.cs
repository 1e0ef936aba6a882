using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;
using T2IStudio.Data;
using T2IStudio.Web.Preferences;

namespace T2IStudio.Web.Components.Layout;

/// <summary>The signed-in shell: app bar, navigation drawer, theme (remembered per user) and the page.</summary>
public partial class MainLayout
{
    private SharedThemeProvider? _themeProvider;
    private ErrorBoundary? _pageErrors;
    private bool _drawerOpen = true;
    private bool _isDarkMode;
    private bool? _storedDarkMode;
    private bool _interactive;
    private string? _userId;

    [CascadingParameter] private Task<AuthenticationState>? AuthenticationState { get; set; }

    [Inject] private UserPreferences Preferences { get; set; } = default!;

    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    /// <summary>True when the dark palette is showing.</summary>
    public bool IsDarkMode => _isDarkMode;

    protected override async Task OnInitializedAsync()
    {
        // Read the stored choice before the first render (prerender included) so a dark-mode user sees no light flash.
        if (AuthenticationState is not null)
        {
            var state = await AuthenticationState;
            _userId = state.User.FindFirstValue(ClaimTypes.NameIdentifier);
        }
        if (_userId is not null)
        {
            _storedDarkMode = await Preferences.GetDarkModeAsync(_userId);
            _isDarkMode = _storedDarkMode ?? false;
        }
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }
        if (_storedDarkMode is null && _themeProvider is not null)
        {
            _isDarkMode = await _themeProvider.GetSystemDarkModeAsync();
        }
        _interactive = true;
        StateHasChanged();
    }

    /// <summary>A new page (the layout's Body changes on navigation) starts without the last page's error.</summary>
    protected override void OnParametersSet() => _pageErrors?.Recover();

    private void RecoverPage() => _pageErrors?.Recover();

    private void ToggleDrawer() => _drawerOpen = !_drawerOpen;

    private async Task ToggleDarkModeAsync()
    {
        _isDarkMode = !_isDarkMode;
        if (_userId is null)
        {
            return;
        }
        try
        {
            await Preferences.SetDarkModeAsync(_userId, _isDarkMode);
            _storedDarkMode = _isDarkMode;
        }
        catch (Exception ex) when (WriteTransactions.IsDatabaseFailure(ex))
        {
            Snackbar.Add("Could not save your theme choice; it applies until you reload.", Severity.Warning);
        }
    }
}
