using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Jobs;

namespace T2IStudio.Web.Components.Admin;

/// <summary>Admin → Queue: every waiting and running job, refreshed every second, with cancel.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "The Admin page of the generation queue, named as its route /admin/queue; not a queue type.")]
public sealed partial class AdminQueue : IDisposable
{
    // On the <table> itself (MudTable puts plain attributes on its wrapper div), so assistive technology names the table.
    private static readonly Dictionary<string, object> TableLabel = new(StringComparer.Ordinal) { ["aria-label"] = "Jobs in the queue" };

    [Inject] private GenerationService Generation { get; set; } = default!;

    [Inject] private TimeProvider Time { get; set; } = default!;

    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    /// <summary>How often the list refreshes itself while the page is open.</summary>
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _closing = new();
    private readonly HashSet<Guid> _cancelling = [];
    private IReadOnlyList<QueueEntry>? _entries;
    private PeriodicTimer? _timer;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        await LoadAsync();
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender)
        {
            // Jobs of everyone change all the time and events go to owners only: the admin's view refreshes itself.
            _timer = new PeriodicTimer(RefreshEvery, Time);
            _ = RefreshLoopAsync(_timer);
        }
    }

    private async Task RefreshLoopAsync(PeriodicTimer timer)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(_closing.Token))
            {
                await InvokeAsync(async () =>
                {
                    await LoadAsync();
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException)
        {
            // The page closed.
        }
        catch (Exception ex)
        {
            await DispatchExceptionAsync(ex);
        }
    }

    private async Task LoadAsync()
    {
        var user = (await AuthenticationState).User;
        _entries = await Generation.ListQueueAsync(user, _closing.Token);
    }

    private async Task CancelAsync(QueueEntry entry)
    {
        _cancelling.Add(entry.Id);
        try
        {
            var user = (await AuthenticationState).User;
            var outcome = await Generation.CancelAsync(user, entry.Id);
            var (message, severity) = outcome switch
            {
                CancelOutcome.Canceled => ($"Cancelled {Describe(entry)}.", Severity.Success),
                CancelOutcome.Stopping => ($"{Describe(entry)} stops before its next step.", Severity.Info),
                CancelOutcome.AlreadyFinished => ($"{Describe(entry)} had already finished.", Severity.Normal),
                _ => ($"{Describe(entry)} is no longer there.", Severity.Warning),
            };
            Snackbar.Add(message, severity);
            await LoadAsync();
        }
        finally
        {
            _cancelling.Remove(entry.Id);
        }
    }

    private static string Describe(QueueEntry entry) => $"the job of {entry.Owner}: {Short(entry.Prompt)}";

    private static string Short(string prompt) => prompt.Length <= 60 ? prompt : prompt[..59] + "…";

    private static double Percent(QueueEntry entry) => entry.TotalSteps == 0 ? 0 : 100.0 * entry.Step / entry.TotalSteps;

    public void Dispose()
    {
        _closing.Cancel();
        _timer?.Dispose();
        _closing.Dispose();
    }
}
