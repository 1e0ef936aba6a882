using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Telemetry;

/// <summary>
/// The studio's own instruments on the <see cref="MeterName"/> meter: what the queue, the workers and the circuits
/// are doing, for the Prometheus endpoint (<c>Telemetry:Prometheus</c>) and the Admin engine panel. Beside each
/// instrument it keeps a small bounded aggregate of the recent values (<see cref="Figures"/>), so the panel shows the
/// same figures with Prometheus off.
/// </summary>
public sealed class StudioMetrics
{
    /// <summary>The meter every studio instrument is on.</summary>
    public const string MeterName = "T2IStudio";

    /// <summary>The most models (or model and size pairs) the panel's aggregates keep; the least recently seen goes first.</summary>
    public const int MaxKeys = 32;

    /// <summary>The window of the recent images-per-second rate.</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(60);

    // Seconds from a tenth of a second (a 64² step on a GPU) to half an hour (a long wait in line).
    private static readonly double[] SecondsBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
    private static readonly double[] StepBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Histogram<int> _batchImages;
    private readonly Histogram<double> _batchFill;
    private readonly Histogram<double> _wait;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _stepSeconds;
    private readonly Counter<long> _imagesCompleted;
    private readonly Counter<long> _failures;
    private readonly UpDownCounter<int> _circuits;

    private readonly TimeProvider _time;
    private readonly WorkerRegistry? _workers;
    private readonly KeyedSamples _waitByModel = new();
    private readonly KeyedSamples _durationByModel = new();
    private readonly KeyedSamples _stepByModelAndSize = new();
    private readonly KeyedSamples _fillByModel = new();
    private readonly ConcurrentDictionary<string, long> _imagesByModel = new(StringComparer.Ordinal);
    private readonly long[] _failuresByReason = new long[JobEndReasons.All.Count];
    private readonly ImageRate _rate;
    private volatile IReadOnlyDictionary<string, int> _waitingByModel = new Dictionary<string, int>(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _queuedModels = new(StringComparer.Ordinal);
    private int _circuitsOpen;

    /// <summary>
    /// Creates the instruments on <paramref name="meters"/>' meter. <paramref name="time"/> dates the images-per-second
    /// window (the system clock when null); <paramref name="workers"/> answers the workers-connected gauge (none when null).
    /// </summary>
    public StudioMetrics(IMeterFactory meters, TimeProvider? time = null, WorkerRegistry? workers = null)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _time = time ?? TimeProvider.System;
        _workers = workers;
        _rate = new ImageRate(_time);
        var meter = meters.Create(MeterName);
        _batchImages = meter.CreateHistogram<int>("t2i.batch.images", "{image}", "Images denoised together in one UNet call, across jobs.");
        _batchFill = meter.CreateHistogram<double>("t2i.batch.fill", "1", "A batch's images over the worker's batch limit.");
        _wait = meter.CreateHistogram("t2i.job.wait", "s", "Time from submit to a worker's first lease, by model.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _duration = meter.CreateHistogram("t2i.job.duration", "s", "Time from lease to stored images, by model.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _stepSeconds = meter.CreateHistogram("t2i.step.duration", "s", "Seconds per denoising step of a completed job (all its images), by model and size.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = StepBuckets });
        _imagesCompleted = meter.CreateCounter<long>("t2i.images.completed", "{image}", "Images stored by completed jobs, by model.");
        _failures = meter.CreateCounter<long>("t2i.job.failures", "{job}", "Jobs that ended without images, by reason (canceled is counted as an outcome).");
        _circuits = meter.CreateUpDownCounter<int>("t2i.circuits.open", "{circuit}", "Blazor circuits open on this node.");
        meter.CreateObservableGauge("t2i.queue.length", ObserveQueue, "{job}", "Jobs waiting, by model (as of the lifecycle's last read of the queue).");
        meter.CreateObservableGauge("t2i.images.rate", () => _rate.PerSecond(), "{image}/s", "Images stored per second over the last minute.");
        meter.CreateObservableGauge("t2i.workers.connected", () => _workers?.Sessions.Count ?? 0, "{worker}", "Workers connected to this node (the in-process worker included).");
    }

    /// <summary>A worker formed a batch of <paramref name="images"/> for <paramref name="model"/>, room for <paramref name="capacity"/>.</summary>
    public void BatchFormed(string model, int images, int capacity)
    {
        var tag = new KeyValuePair<string, object?>("model", model);
        var fill = capacity > 0 ? Math.Min(1.0, images / (double)capacity) : 1.0;
        _batchImages.Record(images, tag);
        _batchFill.Record(fill, tag);
        _fillByModel.Add(model, fill);
    }

    /// <summary>The lifecycle read the queue (its cached view): the queue-length gauge answers from this, never from the database.</summary>
    public void QueueRead(FairOrder order)
    {
        ArgumentNullException.ThrowIfNull(order);
        var waiting = order.Waiting.GroupBy(j => j.Model, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        foreach (var model in waiting.Keys)
        {
            if (_queuedModels.Count < MaxKeys || _queuedModels.ContainsKey(model))
            {
                _queuedModels.TryAdd(model, 0);
            }
        }
        _waitingByModel = waiting;
    }

    /// <summary>A worker leased <paramref name="job"/> at <paramref name="now"/>: its wait (submit to first lease) is recorded once, at its first attempt.</summary>
    public void JobLeased(Job job, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Attempts > 1)
        {
            return; // a re-queued job's second lease would count its first run as waiting
        }
        var seconds = Math.Max(0, (now - job.CreatedAt).TotalSeconds);
        _wait.Record(seconds, new KeyValuePair<string, object?>("model", job.Model));
        _waitByModel.Add(job.Model, seconds);
    }

    /// <summary>A job of <paramref name="shape"/> stored <paramref name="images"/> images <paramref name="elapsed"/> after its lease.</summary>
    public void JobCompleted(JobShape shape, int images, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var model = new KeyValuePair<string, object?>("model", shape.Model);
        var seconds = elapsed.TotalSeconds;
        _duration.Record(seconds, model);
        _durationByModel.Add(shape.Model, seconds);
        if (shape.Steps > 0)
        {
            var size = SizeLabel(shape.Width, shape.Height);
            _stepSeconds.Record(seconds / shape.Steps, model, new KeyValuePair<string, object?>("size", size));
            _stepByModelAndSize.Add(shape.Model + "\n" + size, seconds / shape.Steps);
        }
        if (images > 0)
        {
            _imagesCompleted.Add(images, model);
            _imagesByModel.AddOrUpdate(shape.Model, images, (_, total) => total + images);
            _rate.Add(images);
        }
    }

    /// <summary>A job's row ended as <paramref name="status"/> with <paramref name="error"/>; counted when that is an end without images.</summary>
    public void JobEnded(JobStatus status, string? error)
    {
        if (JobEndReasons.Of(status, error) is { } reason)
        {
            JobEnded(reason);
        }
    }

    /// <summary><paramref name="count"/> jobs ended without images for <paramref name="reason"/>.</summary>
    public void JobEnded(JobEndReason reason, int count = 1)
    {
        if (count <= 0)
        {
            return;
        }
        _failures.Add(count, new KeyValuePair<string, object?>("reason", JobEndReasons.Label(reason)));
        Interlocked.Add(ref _failuresByReason[(int)reason], count);
    }

    /// <summary>A Blazor circuit opened on this node.</summary>
    public void CircuitOpened()
    {
        Interlocked.Increment(ref _circuitsOpen);
        _circuits.Add(1);
    }

    /// <summary>A Blazor circuit closed on this node.</summary>
    public void CircuitClosed()
    {
        Interlocked.Decrement(ref _circuitsOpen);
        _circuits.Add(-1);
    }

    /// <summary>The figures as they stand, for the Admin engine panel.</summary>
    public EngineFigures Figures()
    {
        var waiting = _waitingByModel;
        var models = _waitByModel.Keys.Concat(_durationByModel.Keys).Concat(_fillByModel.Keys).Concat(_imagesByModel.Keys)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(m => new ModelFigures(m, _waitByModel.Summary(m), _durationByModel.Summary(m), _fillByModel.Summary(m), _imagesByModel.GetValueOrDefault(m)))
            .ToList();
        var steps = _stepByModelAndSize.Keys.Order(StringComparer.Ordinal)
            .Select(key => (Key: key, Summary: _stepByModelAndSize.Summary(key)))
            .Where(s => s.Summary is not null)
            .Select(s => new StepFigures(s.Key[..s.Key.IndexOf('\n', StringComparison.Ordinal)], s.Key[(s.Key.IndexOf('\n', StringComparison.Ordinal) + 1)..], s.Summary!))
            .ToList();
        var failures = JobEndReasons.All.Select(r => new FailureFigure(r, JobEndReasons.Label(r), Interlocked.Read(ref _failuresByReason[(int)r]))).ToList();
        return new EngineFigures(
            waiting.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new QueueFigure(p.Key, p.Value)).ToList(),
            models,
            steps,
            _rate.PerSecond(),
            _workers?.Sessions.Count ?? 0,
            Volatile.Read(ref _circuitsOpen),
            failures);
    }

    /// <summary>A size label: <c>512x512</c>.</summary>
    public static string SizeLabel(int width, int height) => string.Create(CultureInfo.InvariantCulture, $"{width}x{height}");

    // Every model seen waiting since start reports 0 once its line is empty, so its series drops to 0 rather than going stale.
    private IEnumerable<Measurement<int>> ObserveQueue()
    {
        var waiting = _waitingByModel;
        foreach (var model in _queuedModels.Keys)
        {
            yield return new Measurement<int>(waiting.GetValueOrDefault(model), new KeyValuePair<string, object?>("model", model));
        }
    }

    /// <summary>Recent samples per key, at most <see cref="MaxKeys"/> keys: the least recently added-to key goes first.</summary>
    private sealed class KeyedSamples
    {
        private readonly ConcurrentDictionary<string, (RecentSamples Samples, long Touched)> _byKey = new(StringComparer.Ordinal);
        private long _clock;

        public IEnumerable<string> Keys => _byKey.Keys;

        public void Add(string key, double value)
        {
            var touched = Interlocked.Increment(ref _clock);
            var entry = _byKey.AddOrUpdate(key, _ => (new RecentSamples(), touched), (_, existing) => (existing.Samples, touched));
            entry.Samples.Add(value);
            while (_byKey.Count > MaxKeys && _byKey.MinBy(p => p.Value.Touched) is { Key: { } oldest } && oldest != key)
            {
                _byKey.TryRemove(oldest, out _);
            }
        }

        public RecentSummary? Summary(string key) => _byKey.TryGetValue(key, out var entry) ? entry.Samples.Summary() : null;
    }

    /// <summary>Images stored per second over <see cref="RateWindow"/>: one counter per second of the window, so it stays bounded.</summary>
    private sealed class ImageRate(TimeProvider time)
    {
        private readonly long[] _second = new long[(int)RateWindow.TotalSeconds];
        private readonly long[] _images = new long[(int)RateWindow.TotalSeconds];
        private readonly Lock _gate = new();

        public void Add(int images)
        {
            var now = time.GetUtcNow().ToUnixTimeSeconds();
            lock (_gate)
            {
                var slot = (int)(now % _second.Length);
                if (_second[slot] != now)
                {
                    _second[slot] = now;
                    _images[slot] = 0;
                }
                _images[slot] += images;
            }
        }

        public double PerSecond()
        {
            var now = time.GetUtcNow().ToUnixTimeSeconds();
            long total = 0;
            lock (_gate)
            {
                for (var slot = 0; slot < _second.Length; slot++)
                {
                    if (now - _second[slot] < _second.Length)
                    {
                        total += _images[slot];
                    }
                }
            }
            return total / RateWindow.TotalSeconds;
        }
    }
}

/// <summary>Everything the Admin engine panel shows, as one read of <see cref="StudioMetrics"/>.</summary>
/// <param name="Queue">Jobs waiting per model (models with none are left out).</param>
/// <param name="Models">Per model seen since start: recent wait, duration and batch fill, and images stored.</param>
/// <param name="Steps">Recent seconds per step by model and size.</param>
/// <param name="ImagesPerSecond">Images stored per second over the last minute.</param>
/// <param name="Workers">Workers connected to this node.</param>
/// <param name="Circuits">Blazor circuits open on this node.</param>
/// <param name="Failures">Jobs that ended without images since start, per reason (every reason listed, zeros too).</param>
public sealed record EngineFigures(
    IReadOnlyList<QueueFigure> Queue,
    IReadOnlyList<ModelFigures> Models,
    IReadOnlyList<StepFigures> Steps,
    double ImagesPerSecond,
    int Workers,
    int Circuits,
    IReadOnlyList<FailureFigure> Failures)
{
    /// <summary>No job has been leased, completed or ended on this node since it started.</summary>
    public bool NothingRanYet => Models.Count == 0 && Steps.Count == 0 && Failures.All(f => f.Count == 0);
}

/// <summary>Jobs waiting for one model.</summary>
public sealed record QueueFigure(string Model, int Waiting);

/// <summary>One model's recent figures; a summary is null when nothing of that kind was recorded.</summary>
public sealed record ModelFigures(string Model, RecentSummary? Wait, RecentSummary? Duration, RecentSummary? BatchFill, long Images);

/// <summary>Recent seconds per step of one model at one size (<c>512x512</c>).</summary>
public sealed record StepFigures(string Model, string Size, RecentSummary SecondsPerStep);

/// <summary>Jobs that ended for one reason.</summary>
public sealed record FailureFigure(JobEndReason Reason, string Label, long Count);
