namespace T2IStudio.Web.Telemetry;

/// <summary>Mean, median and 95th percentile of the recent samples of one figure.</summary>
/// <param name="Count">Samples the figures come from (at most <see cref="RecentSamples.Capacity"/>).</param>
/// <param name="Mean">Their mean.</param>
/// <param name="Median">Their 50th percentile.</param>
/// <param name="P95">Their 95th percentile (nearest rank).</param>
public sealed record RecentSummary(int Count, double Mean, double Median, double P95);

/// <summary>
/// The last <see cref="Capacity"/> values of one figure, oldest overwritten first: enough for the Admin panel's
/// percentiles, and bounded however long the server runs. Thread-safe.
/// </summary>
public sealed class RecentSamples
{
    /// <summary>How many values are kept.</summary>
    public const int Capacity = 128;

    private readonly double[] _values = new double[Capacity];
    private readonly Lock _gate = new();
    private int _next;
    private int _count;

    /// <summary>Adds a value, dropping the oldest when full.</summary>
    public void Add(double value)
    {
        lock (_gate)
        {
            _values[_next] = value;
            _next = (_next + 1) % Capacity;
            _count = Math.Min(Capacity, _count + 1);
        }
    }

    /// <summary>The summary of the values kept, or null before the first.</summary>
    public RecentSummary? Summary()
    {
        double[] sorted;
        lock (_gate)
        {
            if (_count == 0)
            {
                return null;
            }
            sorted = _values[.._count];
        }
        Array.Sort(sorted);
        return new RecentSummary(sorted.Length, sorted.Average(), Rank(sorted, 0.50), Rank(sorted, 0.95));
    }

    // Nearest rank: the smallest value with at least that share of the samples at or below it.
    private static double Rank(double[] sorted, double share) =>
        sorted[Math.Clamp((int)Math.Ceiling(share * sorted.Length) - 1, 0, sorted.Length - 1)];
}
