using Microsoft.AspNetCore.Components.Server.Circuits;

namespace T2IStudio.Web.Telemetry;

/// <summary>Counts this node's open Blazor circuits into <see cref="StudioMetrics"/> (one handler per circuit).</summary>
public sealed class CircuitCounter(StudioMetrics metrics) : CircuitHandler
{
    private int _open;

    /// <inheritdoc />
    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        // Once per circuit: the count must come back to zero when it closes, whatever else happened in between.
        if (Interlocked.Exchange(ref _open, 1) == 0)
        {
            metrics.CircuitOpened();
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task OnCircuitClosedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _open, 0) == 1)
        {
            metrics.CircuitClosed();
        }
        return Task.CompletedTask;
    }
}
