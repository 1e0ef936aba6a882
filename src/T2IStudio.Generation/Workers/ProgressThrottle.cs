namespace T2IStudio.Generation.Workers;

/// <summary>
/// How often one job's progress leaves its worker: a preview at most every <see cref="PreviewInterval"/>,
/// progress without one at most every <see cref="ProgressInterval"/>, and the last step always. The worker asks
/// before it encodes a preview, so a preview that would be dropped is never encoded. One per job; not thread-safe.
/// </summary>
public sealed class ProgressThrottle(TimeProvider time)
{
    /// <summary>The shortest gap between two previews of one job (at most four a second).</summary>
    public static readonly TimeSpan PreviewInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The shortest gap between two progress reports of one job without a preview.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(100);

    private long? _lastPreview;
    private long? _lastProgress;

    /// <summary>
    /// Whether step <paramref name="step"/> of <paramref name="totalSteps"/> is reported now, and whether with the
    /// preview it has (<paramref name="hasPreview"/>); a true answer counts as sent.
    /// </summary>
    public bool Due(int step, int totalSteps, bool hasPreview, out bool withPreview)
    {
        var now = time.GetTimestamp();
        withPreview = hasPreview && (_lastPreview is null || time.GetElapsedTime(_lastPreview.Value, now) >= PreviewInterval);
        var progressDue = step == totalSteps || _lastProgress is null || time.GetElapsedTime(_lastProgress.Value, now) >= ProgressInterval;
        if (!withPreview && !progressDue)
        {
            return false;
        }
        if (withPreview)
        {
            _lastPreview = now;
        }
        _lastProgress = now;
        return true;
    }
}
