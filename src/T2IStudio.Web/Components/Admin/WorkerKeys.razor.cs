using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.JSInterop;
using MudBlazor;
using T2IStudio.Web.Components.Shared;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Components.Admin;

/// <summary>Admin → Worker keys: named keys remote workers join with, shown once when made, revocable.</summary>
public sealed partial class WorkerKeys
{
    // On the <table> itself (MudTable puts plain attributes on its wrapper div), so assistive technology names the table.
    private static readonly Dictionary<string, object> TableLabel = new(StringComparer.Ordinal) { ["aria-label"] = "Worker keys" };

    private readonly DialogOptions _dialogOptions = new() { MaxWidth = MaxWidth.Small, FullWidth = true, CloseOnEscapeKey = true };
    private IReadOnlyList<WorkerKeySummary>? _keys;
    private string? _name;
    private bool _busy;
    private bool _showCreated;
    private WorkerKeyCreated? _created;

    [Inject] private WorkerKeyService Keys { get; set; } = default!;

    [Inject] private IJSRuntime JS { get; set; } = default!;

    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override Task OnInitializedAsync() => LoadAsync();

    private static string Time(DateTimeOffset at) => at.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture) + " UTC";

    private async Task LoadAsync() => _keys = await Keys.ListAsync((await AuthenticationState).User);

    private async Task NameKeyDownAsync(KeyboardEventArgs e)
    {
        if (e.Key == "Enter")
        {
            await CreateAsync();
        }
    }

    private async Task CreateAsync()
    {
        if (_busy || string.IsNullOrWhiteSpace(_name))
        {
            return;
        }
        _busy = true;
        try
        {
            var result = await Keys.CreateAsync((await AuthenticationState).User, _name);
            if (result.Created is { } created)
            {
                _created = created;
                _showCreated = true;
                _name = null;
                await LoadAsync();
            }
            else
            {
                Snackbar.Add(result.Message, Severity.Error);
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
            await JS.CopySecretAsync(Snackbar, _created.Secret, "Worker key", "key");
        }
    }

    private async Task RevokeAsync(WorkerKeySummary key)
    {
        _busy = true;
        try
        {
            var revoked = await Keys.RevokeAsync((await AuthenticationState).User, key.Id);
            Snackbar.Add(revoked ? $"Key \"{key.Name}\" revoked; workers using it were disconnected." : $"Key \"{key.Name}\" was revoked already.",
                revoked ? Severity.Success : Severity.Info);
            await LoadAsync();
        }
        finally
        {
            _busy = false;
        }
    }
}
