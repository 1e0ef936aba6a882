using T2IStudio.Web.Cluster;

namespace T2IStudio.Web.Realtime;

/// <summary>
/// Shares this node's gallery visits with the other nodes every <see cref="GalleryPresence.RefreshInterval"/>, so
/// they do not expire while the pages stay open (and are shared again soon after Redis comes back). Does nothing
/// on a node on its own.
/// </summary>
public sealed partial class PresenceSharing(GalleryPresence presence, IClusterBus cluster, TimeProvider time, ILogger<PresenceSharing> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (cluster.Status.State == ClusterLinkState.Alone)
        {
            return;
        }
        using var timer = new PeriodicTimer(GalleryPresence.RefreshInterval, time);
        do
        {
            try
            {
                await presence.ShareAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogShareFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gallery presence could not be shared with the other nodes; trying again at the next refresh")]
    private partial void LogShareFailed(Exception ex);
}
