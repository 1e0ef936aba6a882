using System.Globalization;
using Microsoft.AspNetCore.Components;
using T2IStudio.Web.Telemetry;

namespace T2IStudio.Web.Components.Admin;

/// <summary>
/// Admin → Generation engine's live figures: queue per model, wait and run time, seconds per step by model and size,
/// batch fill, images per second, workers, circuits and jobs that ended without images, by reason. Read from
/// <see cref="StudioMetrics"/>' in-memory aggregates every two seconds, so they show with Prometheus off too.
/// </summary>
public sealed partial class EngineActivity : IDisposable
{
    /// <summary>How often the figures are read again.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(2);

    // On the <table> itself (MudTable puts plain attributes on its wrapper div), so assistive technology names the tables.
    private static readonly Dictionary<string, object> ModelsLabel = new(StringComparer.Ordinal) { ["aria-label"] = "Wait, run time and batch fill per model" };
    private static readonly Dictionary<string, object> StepsLabel = new(StringComparer.Ordinal) { ["aria-label"] = "Seconds per step by model and size" };

    private readonly CancellationTokenSource _stop = new();
    private EngineFigures _figures = null!;

    [Inject] private StudioMetrics Metrics { get; set; } = default!;

    [Inject] private TimeProvider Time { get; set; } = default!;

    private string QueueNote => _figures.Queue.Count switch
    {
        0 => "no job waiting",
        _ => string.Join(" · ", _figures.Queue.Select(q => $"{q.Model}: {q.Waiting}")),
    };

    /// <inheritdoc />
    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    protected override void OnInitialized() => _figures = Metrics.Figures();

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender)
        {
            _ = RefreshAsync(_stop.Token);
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(RefreshInterval, Time);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await InvokeAsync(() =>
                {
                    _figures = Metrics.Figures();
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException)
        {
            // The panel was closed.
        }
        catch (ObjectDisposedException)
        {
            // The circuit went away between two ticks.
        }
    }

    /// <summary>A duration in seconds as people read it: 0.042 s, 3.4 s, 2 min 05 s.</summary>
    internal static string Seconds(double seconds) => seconds switch
    {
        < 0.1 => seconds.ToString("0.000", CultureInfo.CurrentCulture) + " s",
        < 10 => seconds.ToString("0.00", CultureInfo.CurrentCulture) + " s",
        < 60 => seconds.ToString("0.0", CultureInfo.CurrentCulture) + " s",
        _ => string.Create(CultureInfo.CurrentCulture, $"{(int)(seconds / 60)} min {(int)(seconds % 60):00} s"),
    };

    private static string Pair(RecentSummary? summary) =>
        summary is null ? "—" : $"{Seconds(summary.Median)} / {Seconds(summary.P95)}";

    private static string Fill(RecentSummary? summary) =>
        summary is null ? "— (no batch formed)" : (summary.Mean * 100).ToString("0", CultureInfo.CurrentCulture) + "%";

    private static string Rate(double perSecond) => perSecond.ToString(perSecond < 10 ? "0.00" : "0.0", CultureInfo.CurrentCulture);

    private static string ReasonName(JobEndReason reason) => reason switch
    {
        JobEndReason.LostWorker => "Lost worker",
        JobEndReason.TimeLimit => "Time limit",
        JobEndReason.Interrupted => "Interrupted",
        JobEndReason.RefusedImages => "Refused images",
        JobEndReason.ModelMissing => "Model missing",
        JobEndReason.Canceled => "Cancelled",
        _ => "Failed",
    };
}
