using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;
using MudBlazor;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Components.Admin;

/// <summary>
/// Admin → Workers: the workers that joined any web node, what they run, and their heartbeats. The page only
/// reads; a worker is told what to do by the node it is connected to.
/// </summary>
public sealed partial class AdminWorkers : IDisposable
{
    [Inject] private WorkerDirectory Directory { get; set; } = default!;

    [Inject] private IOptions<QueueOptions> QueueOptions { get; set; } = default!;

    [Inject] private NavigationManager Navigation { get; set; } = default!;

    [Inject] private TimeProvider Time { get; set; } = default!;

    /// <summary>How often the relative times ("2 s ago") move on; the list itself follows the directory's events.</summary>
    private static readonly TimeSpan TickEvery = TimeSpan.FromSeconds(1);

    // On the <table> itself (MudTable puts plain attributes on its wrapper), so assistive technology names the table.
    private static readonly Dictionary<string, object> TableLabel = new(StringComparer.Ordinal) { ["aria-label"] = "Workers" };

    private readonly CancellationTokenSource _closing = new();
    private IDisposable? _subscription;
    private PeriodicTimer? _timer;

    private string StartCommand => $"dotnet run --project src/T2IStudio.Worker -- --server {Navigation.BaseUri.TrimEnd('/')} --key <a worker key>";

    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }
        _subscription = Directory.Subscribe(OnWorkersChangedAsync);
        _timer = new PeriodicTimer(TickEvery, Time);
        _ = TickLoopAsync(_timer);
        // A worker that joined or left between the first render and the subscription would otherwise wait for the next event.
        StateHasChanged();
    }

    private async Task OnWorkersChangedAsync()
    {
        try
        {
            await InvokeAsync(StateHasChanged);
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

    private async Task TickLoopAsync(PeriodicTimer timer)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(_closing.Token))
            {
                await InvokeAsync(StateHasChanged);
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

    private static string KindText(WorkerKind kind) => kind == WorkerKind.InProcess ? "In process" : "Remote";

    private static string ShortJobId(Guid jobId) => jobId.ToString("N")[..8];

    private static string Timestamp(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " UTC";

    private static string Ago(DateTimeOffset now, DateTimeOffset then)
    {
        var elapsed = now - then;
        if (elapsed < TimeSpan.Zero)
        {
            elapsed = TimeSpan.Zero; // a beat recorded a hair after this render's clock read
        }
        return elapsed.TotalSeconds < 60 ? $"{(int)elapsed.TotalSeconds} s ago"
            : elapsed.TotalMinutes < 60 ? $"{(int)elapsed.TotalMinutes} min ago"
            : elapsed.TotalHours < 48 ? $"{(int)elapsed.TotalHours} h ago"
            : $"{(int)elapsed.TotalDays} d ago";
    }

    public void Dispose()
    {
        _subscription?.Dispose();
        _closing.Cancel();
        _timer?.Dispose();
        _closing.Dispose();
    }

    private static string FormatMemory(long bytes) => bytes >= 1L << 30
        ? $"{bytes / (double)(1L << 30):0.#} GiB"
        : $"{bytes / (double)(1L << 20):0} MiB";
}
