using Microsoft.AspNetCore.Components;
using T2IStudio.Web.Cluster;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Components.Admin;

/// <summary>
/// The Admin page's Cluster section: this node's name, its link to Redis (live, through
/// <see cref="IClusterBus.OnStatusChanged"/>) and the nodes seen sharing their workers.
/// </summary>
public sealed partial class ClusterSection : IDisposable
{
    [Inject] private IClusterBus Cluster { get; set; } = default!;

    [Inject] private WorkerDirectory Directory { get; set; } = default!;

    private IDisposable? _statusSubscription;
    private IDisposable? _workersSubscription;

    /// <summary>The link's state in words.</summary>
    public static string RedisText(ClusterStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return status.State switch
        {
            ClusterLinkState.Alone => "Single node (no Redis configured)",
            ClusterLinkState.Connected => "Connected",
            _ => $"Lost since {(status.Since is { } since ? since.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " UTC" : "start")}: {status.Problem ?? "no answer"}",
        };
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }
        _statusSubscription = Cluster.OnStatusChanged(_ => RefreshAsync());
        _workersSubscription = Directory.Subscribe(RefreshAsync);
        // A change between the first render and the subscriptions would otherwise wait for the next one.
        StateHasChanged();
    }

    private async Task RefreshAsync()
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

    /// <inheritdoc />
    public void Dispose()
    {
        _statusSubscription?.Dispose();
        _workersSubscription?.Dispose();
    }
}
