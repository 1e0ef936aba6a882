using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Models;
using T2IStudio.Web.Access;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;
using LimitsService = T2IStudio.Web.Teams.TeamLimits;

namespace T2IStudio.Web.Components.Teams;

/// <summary>
/// The team page's "Models and budget" tab: today's use against the daily budget, live as the team's jobs are queued
/// or given back, and the limits, which owners change and the other members read.
/// </summary>
public sealed partial class TeamLimits : IDisposable
{
    private System.Security.Claims.ClaimsPrincipal _user = new();
    private TeamLimitsView? _view;
    private IReadOnlyList<string> _models = [];
    private IReadOnlyCollection<string> _selection = [];
    private int _dailyImages;
    private bool _budgetFollowsDefault;
    private bool _busy;
    private IDisposable? _subscription;
    private (Guid TeamId, TeamRole Role)? _loadedFor;

    [Inject] private LimitsService Limits { get; set; } = default!;

    [Inject] private ModelHost Models { get; set; } = default!;

    [Inject] private StudioNotifier Events { get; set; } = default!;

    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    // Amber from nine tenths of the budget, red when it is spent.
    private Color UsageColor => _view is not { DailyImageLimit: > 0 } view ? Color.Primary
        : view.UsedToday >= view.DailyImageLimit ? Color.Error
        : view.UsedToday * 10L >= view.DailyImageLimit * 9L ? Color.Warning
        : Color.Primary;

    private string DefaultModelsText => _view?.Defaults.AllowedModels is { Count: > 0 } models ? string.Join(", ", models) : "all models";

    private string DefaultBudgetText => _view?.Defaults.DailyImageLimit is int limit and > 0 ? $"{Images(limit)} a day" : "no limit";

    private string ModelsHelp => _selection.Contains(AllowedModelsChoice.ServerDefault)
        ? "The team follows the server default; an admin may change it."
        : "Jobs saving into the team's galleries may use these.";

    protected override async Task OnParametersSetAsync()
    {
        if (_loadedFor == (TeamId, MyRole))
        {
            return;
        }
        _loadedFor = (TeamId, MyRole);
        _user = (await AuthenticationState).User;
        _models = [.. Models.Catalog.List().Where(m => m.IsAvailable).Select(m => m.Id)];
        await LoadAsync(resetForm: true);
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && ResourceAccess.UserId(_user) is { } userId)
        {
            _subscription = Events.Subscribe(userId, OnEventAsync);
        }
    }

    private async Task OnEventAsync(StudioEvent studioEvent)
    {
        // The limits changed, or a job of the team was queued or gave its images back (members hear of the team's jobs).
        var relevant = studioEvent switch
        {
            TeamChanged changed => changed.TeamId == TeamId && !changed.Removed,
            JobQueued or JobFailed or JobCanceled => true,
            _ => false,
        };
        if (!relevant)
        {
            return;
        }
        try
        {
            await InvokeAsync(async () =>
            {
                // Someone else's save replaces the form; a job only moves the use and keeps what the owner is typing.
                await LoadAsync(resetForm: studioEvent is TeamChanged);
                StateHasChanged();
            });
        }
        catch (ObjectDisposedException)
        {
            // The circuit closed between the event and the render.
        }
        catch (Exception ex)
        {
            await DispatchExceptionAsync(ex);
        }
    }

    private async Task LoadAsync(bool resetForm)
    {
        // Null when no longer a member: the team page itself takes the person away.
        _view = await Limits.GetAsync(_user, TeamId) ?? _view;
        if (resetForm && _view is not null)
        {
            _selection = AllowedModelsChoice.From(_view.OwnAllowedModels, offersServerDefault: true);
            _budgetFollowsDefault = _view.OwnDailyImageLimit is null;
            _dailyImages = _view.OwnDailyImageLimit ?? _view.Defaults.DailyImageLimit;
        }
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
            Snackbar.Add("Choose the models the team may use, All models, or Use the server default.", Severity.Error);
            return;
        }
        _busy = true;
        try
        {
            var result = await Limits.SetAsync(_user, TeamId, models, _budgetFollowsDefault ? null : _dailyImages);
            if (result.Succeeded)
            {
                Snackbar.Add(result.Message ?? "Limits saved.", Severity.Success);
                await LoadAsync(resetForm: true);
            }
            else
            {
                Snackbar.Add(result.FirstErrorOr("You are no longer a member of this team."), Severity.Error);
            }
        }
        finally
        {
            _busy = false;
        }
    }

    private static string Images(int count) => count == 1 ? "1 image" : $"{count.ToString(CultureInfo.InvariantCulture)} images";

    private static string ModelsText(IReadOnlyList<string>? models) => models is { Count: > 0 } ? string.Join(", ", models) : "All models";

    private static string LimitText(int limit) => limit == 0 ? "No daily limit" : $"{Images(limit)} a day";

    /// <inheritdoc />
    public void Dispose() => _subscription?.Dispose();
}
