using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Access;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Styles;

namespace T2IStudio.Web.Components.Styles;

/// <summary>
/// The styles of one owner, kept current as they change anywhere (<see cref="StylesChanged"/>). Whoever may manage
/// them gets "New style", edit and delete (with a confirmation); everyone else reads. The service decides every
/// change again, so a role lost meanwhile is refused with its message.
/// </summary>
public sealed partial class StyleList : IDisposable
{
    private System.Security.Claims.ClaimsPrincipal _user = new();
    private string? _userId;
    private StyleGroup? _group;
    private IReadOnlyList<string> _models = [];
    private StyleDraft? _draft;
    private StyleView? _editing;
    private bool _busy;
    private IDisposable? _subscription;

    /// <summary>The team whose styles these are; null for the person's own.</summary>
    [Parameter] public Guid? TeamId { get; set; }

    /// <summary>Only list them, even for someone who may manage them (the Styles page shows team styles this way).</summary>
    [Parameter] public bool ReadOnly { get; set; }

    /// <summary>The heading; the owner's label ("My styles" or the team's name) when null.</summary>
    [Parameter] public string? Heading { get; set; }

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    [Inject] private StyleLibrary Library { get; set; } = null!;

    [Inject] private StudioNotifier Events { get; set; } = null!;

    [Inject] private ModelHost Models { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Inject] private IDialogService Dialogs { get; set; } = null!;

    private bool CanManage => !ReadOnly && _group?.CanManage == true;

    protected override async Task OnParametersSetAsync()
    {
        _user = (await AuthenticationState).User;
        _userId = ResourceAccess.UserId(_user);
        _models = [.. Models.Catalog.List().Select(m => m.Id).Order(StringComparer.Ordinal)];
        await LoadAsync();
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && _userId is not null)
        {
            _subscription = Events.Subscribe(_userId, OnEventAsync);
        }
    }

    private async Task LoadAsync()
    {
        var groups = await Library.ListAsync(_user);
        // No longer a member: an empty, read-only list (the team page itself navigates away).
        _group = groups.FirstOrDefault(g => g.TeamId == TeamId) ?? new StyleGroup(Heading ?? "", TeamId, false, []);
    }

    private async Task OnEventAsync(StudioEvent studioEvent)
    {
        if (studioEvent is not StylesChanged changed || changed.TeamId != TeamId)
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
            await DispatchExceptionAsync(ex);
        }
    }

    private void StartNew()
    {
        _editing = null;
        _draft = new StyleDraft();
    }

    private void StartEdit(StyleView style)
    {
        _editing = style;
        _draft = StyleDraft.From(style);
    }

    private void CancelEdit()
    {
        _editing = null;
        _draft = null;
    }

    private async Task SaveAsync()
    {
        if (_draft is null || _busy)
        {
            return;
        }
        _busy = true;
        try
        {
            var result = _editing is { } style
                ? await Library.UpdateAsync(_user, style.Id, _draft, style.ConcurrencyStamp)
                : await Library.CreateAsync(_user, TeamId, _draft);
            if (!result.Succeeded)
            {
                Snackbar.Add(result.FirstErrorOr("That style is gone."), Severity.Error);
                if (result.NotFound)
                {
                    CancelEdit();
                    await LoadAsync();
                }
                return;
            }
            Snackbar.Add(_editing is null ? $"Style \"{_draft.Name.Trim()}\" saved." : $"Style \"{_draft.Name.Trim()}\" updated.", Severity.Success);
            CancelEdit();
            await LoadAsync();
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task DeleteAsync(StyleView style)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync($"Delete the style \"{style.Name}\"?",
            "Images made with it keep their expanded prompt and its name; it can no longer be chosen on Create.",
            yesText: "Delete", cancelText: "Keep it");
        if (confirmed != true)
        {
            return;
        }
        _busy = true;
        try
        {
            var result = await Library.DeleteAsync(_user, style.Id);
            Snackbar.Add(result.Succeeded ? $"Style \"{style.Name}\" deleted." : result.FirstErrorOr("That style is already gone."),
                result.Succeeded ? Severity.Success : Severity.Error);
            if (_editing?.Id == style.Id)
            {
                CancelEdit();
            }
            await LoadAsync();
        }
        finally
        {
            _busy = false;
        }
    }

    private static string Defaults(StyleView style)
    {
        var parts = new List<string>();
        if (style.Model is { } model)
        {
            parts.Add(model);
        }
        if (style.Scheduler is { } scheduler)
        {
            parts.Add(SchedulerFactory.DisplayName(scheduler));
        }
        if (style.Steps is { } steps)
        {
            parts.Add($"{steps} steps");
        }
        if (style.Guidance is { } guidance)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"guidance {guidance}"));
        }
        if (style.Width is not null || style.Height is not null)
        {
            parts.Add($"{style.Width?.ToString(CultureInfo.InvariantCulture) ?? "–"}×{style.Height?.ToString(CultureInfo.InvariantCulture) ?? "–"}");
        }
        return parts.Count == 0 ? "—" : string.Join(", ", parts);
    }

    /// <inheritdoc />
    public void Dispose() => _subscription?.Dispose();
}
