using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using T2IStudio.Generation.Models;
using T2IStudio.Web.Components.Teams;
using Defaults = T2IStudio.Web.Teams.TeamDefaults;
using LimitsService = T2IStudio.Web.Teams.TeamLimits;

namespace T2IStudio.Web.Components.Admin;

/// <summary>Admin → Team defaults: the models and daily image budget of every team that follows the server's default.</summary>
public sealed partial class TeamDefaults
{
    private IReadOnlyList<string> _models = [];
    private IReadOnlyCollection<string> _selection = [];
    private int _dailyImages;
    private bool _loaded;
    private bool _busy;

    [Inject] private LimitsService Limits { get; set; } = default!;

    [Inject] private ModelHost Models { get; set; } = default!;

    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _models = [.. Models.Catalog.List().Where(m => m.IsAvailable).Select(m => m.Id)];
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        // The service asks the database whether the caller is an admin; the page's policy is not the only gate.
        var defaults = await Limits.GetDefaultsAsync((await AuthenticationState).User) ?? Defaults.None;
        _selection = AllowedModelsChoice.From(defaults.AllowedModels, offersServerDefault: false);
        _dailyImages = defaults.DailyImageLimit;
        _loaded = true;
    }

    private void ModelsChanged(IEnumerable<string?>? values) => _selection = AllowedModelsChoice.Normalize(_selection, values ?? []);

    private async Task SaveAsync()
    {
        if (_busy)
        {
            return;
        }
        if (!AllowedModelsChoice.TryToList(_selection, out var models))
        {
            Snackbar.Add("Choose the models teams may use, or All models.", Severity.Error);
            return;
        }
        _busy = true;
        try
        {
            var result = await Limits.SetDefaultsAsync((await AuthenticationState).User, new Defaults(models, _dailyImages));
            if (result.Succeeded)
            {
                Snackbar.Add(result.Message ?? "Team defaults saved.", Severity.Success);
                await LoadAsync();
            }
            else
            {
                Snackbar.Add(result.FirstErrorOr(LimitsService.AdminsOnly), Severity.Error);
            }
        }
        finally
        {
            _busy = false;
        }
    }
}
