namespace T2IStudio.Web.Jobs;

/// <summary>
/// Once a second: fails jobs past the per-job time limit, re-queues jobs whose worker stopped beating, and
/// passes on cancels asked on another node (<see cref="JobLifecycle.SweepAsync"/>). Runs on every node; the
/// updates are conditional, so two nodes sweeping at once do each thing once.
/// </summary>
public sealed partial class LeaseSweeper(JobLifecycle lifecycle, TimeProvider time, ILogger<LeaseSweeper> logger) : BackgroundService
{
    /// <summary>How often it sweeps.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await lifecycle.SweepAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    // The database is busy or gone for a moment: the next sweep tries again.
                    LogSweepFailed(ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A lease sweep failed; the next one tries again")]
    private partial void LogSweepFailed(Exception ex);
}
