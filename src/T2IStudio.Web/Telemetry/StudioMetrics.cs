using System.Diagnostics.Metrics;

namespace T2IStudio.Web.Telemetry;

/// <summary>
/// The studio's own instruments on the <see cref="MeterName"/> meter: what the queue, the workers and the circuits
/// are doing, for the Prometheus endpoint (<c>Telemetry:Prometheus</c>) and the Admin engine panel.
/// </summary>
public sealed class StudioMetrics
{
    /// <summary>The meter every studio instrument is on.</summary>
    public const string MeterName = "T2IStudio";

    private readonly Histogram<int> _batchImages;
    private readonly Histogram<double> _batchFill;

    /// <summary>Creates the instruments on <paramref name="meters"/>' meter.</summary>
    public StudioMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _batchImages = meter.CreateHistogram<int>("t2i.batch.images", "{image}", "Images denoised together in one UNet call, across jobs.");
        _batchFill = meter.CreateHistogram<double>("t2i.batch.fill", "1", "A batch's images over the worker's batch limit.");
    }

    /// <summary>A worker formed a batch of <paramref name="images"/> for <paramref name="model"/>, room for <paramref name="capacity"/>.</summary>
    public void BatchFormed(string model, int images, int capacity)
    {
        var tag = new KeyValuePair<string, object?>("model", model);
        _batchImages.Record(images, tag);
        _batchFill.Record(capacity > 0 ? Math.Min(1.0, images / (double)capacity) : 1.0, tag);
    }
}
