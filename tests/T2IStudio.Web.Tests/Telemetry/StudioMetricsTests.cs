using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Telemetry;

namespace T2IStudio.Web.Tests.Telemetry;

/// <summary>The panel's aggregates and the failure reasons: what StudioMetrics keeps, and that it stays bounded.</summary>
public sealed class StudioMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData(JobStatus.Canceled, null, JobEndReason.Canceled)]
    [InlineData(JobStatus.Failed, JobLifecycle.InterruptedError, JobEndReason.Interrupted)]
    [InlineData(JobStatus.Failed, JobLifecycle.LostTwiceError, JobEndReason.LostWorker)]
    [InlineData(JobStatus.Failed, "The server ran out of memory running this job. Try a smaller size or batch.", JobEndReason.Failed)]
    [InlineData(JobStatus.Failed, null, JobEndReason.Failed)]
    public void A_finished_rows_status_and_error_map_to_its_reason(JobStatus status, string? error, JobEndReason expected) =>
        Assert.Equal(expected, JobEndReasons.Of(status, error));

    [Fact]
    public void The_lifecycles_worded_messages_map_to_refused_images_and_time_limit_whatever_they_name()
    {
        Assert.Equal(JobEndReason.RefusedImages, JobEndReasons.Of(JobStatus.Failed, JobLifecycle.RefusedImagesError("Image 0 is 32×32; the job makes 64×64.")));
        Assert.Equal(JobEndReason.TimeLimit, JobEndReasons.Of(JobStatus.Failed, JobLifecycle.TimeLimitError(1)));
        Assert.Equal(JobEndReason.TimeLimit, JobEndReasons.Of(JobStatus.Failed, JobLifecycle.TimeLimitError(45)));
        Assert.Null(JobEndReasons.Of(JobStatus.Completed, null));
        Assert.Null(JobEndReasons.Of(JobStatus.Queued, null));
        Assert.Equal(["failed", "lost_worker", "time_limit", "interrupted", "refused_images", "model_missing", "canceled"], JobEndReasons.All.Select(JobEndReasons.Label));
    }

    [Fact]
    public void Recent_samples_give_mean_median_and_p95_of_the_last_128_values_only()
    {
        var samples = new RecentSamples();
        Assert.Null(samples.Summary());
        for (var value = 1; value <= 100; value++)
        {
            samples.Add(value);
        }
        Assert.Equal(new RecentSummary(100, 50.5, 50, 95), samples.Summary());

        for (var value = 0; value < RecentSamples.Capacity; value++)
        {
            samples.Add(1000);
        }
        Assert.Equal(new RecentSummary(RecentSamples.Capacity, 1000, 1000, 1000), samples.Summary());
    }

    [Fact]
    public void Completed_jobs_give_run_time_seconds_per_step_by_model_and_size_images_and_the_rate_over_the_last_minute()
    {
        var metrics = NewMetrics();
        metrics.JobLeased(new Job { Model = "sd15", CreatedAt = _clock.GetUtcNow().AddSeconds(-3), Attempts = 1 }, _clock.GetUtcNow());
        // A second lease of a re-queued job is not a second wait.
        metrics.JobLeased(new Job { Model = "sd15", CreatedAt = _clock.GetUtcNow().AddSeconds(-300), Attempts = 2 }, _clock.GetUtcNow());
        metrics.JobCompleted(new JobShape("sd15", 20, 512, 512, 2, true), images: 2, TimeSpan.FromSeconds(10));
        metrics.JobCompleted(new JobShape("sd15", 25, 768, 512, 1, true), images: 1, TimeSpan.FromSeconds(5));
        metrics.BatchFormed("sd15", images: 3, capacity: 4);

        var figures = metrics.Figures();

        Assert.False(figures.NothingRanYet);
        var model = Assert.Single(figures.Models);
        Assert.Equal("sd15", model.Model);
        Assert.Equal(new RecentSummary(1, 3, 3, 3), model.Wait);
        Assert.Equal(new RecentSummary(2, 7.5, 5, 10), model.Duration);
        Assert.Equal(0.75, model.BatchFill!.Mean);
        Assert.Equal(3, model.Images);
        Assert.Equal(
            [("sd15", "512x512", 0.5), ("sd15", "768x512", 0.2)],
            figures.Steps.Select(s => (s.Model, s.Size, s.SecondsPerStep.Median)));
        Assert.Equal(3 / 60.0, figures.ImagesPerSecond, 9);

        _clock.Advance(StudioMetrics.RateWindow);
        Assert.Equal(0, metrics.Figures().ImagesPerSecond);
    }

    [Fact]
    public void Failures_count_per_reason_and_every_reason_is_listed_from_zero()
    {
        var metrics = NewMetrics();
        Assert.True(metrics.Figures().NothingRanYet);
        Assert.All(metrics.Figures().Failures, f => Assert.Equal(0, f.Count));

        metrics.JobEnded(JobStatus.Canceled, null);
        metrics.JobEnded(JobStatus.Failed, JobLifecycle.LostTwiceError);
        metrics.JobEnded(JobStatus.Completed, null);
        metrics.JobEnded(JobEndReason.Interrupted, 3);

        var failures = metrics.Figures().Failures.ToDictionary(f => f.Reason, f => f.Count);
        Assert.Equal(JobEndReasons.All.Count, failures.Count);
        Assert.Equal(1, failures[JobEndReason.Canceled]);
        Assert.Equal(1, failures[JobEndReason.LostWorker]);
        Assert.Equal(3, failures[JobEndReason.Interrupted]);
        Assert.Equal(0, failures[JobEndReason.Failed]);
        Assert.False(metrics.Figures().NothingRanYet);
    }

    [Fact]
    public void The_aggregates_keep_at_most_MaxKeys_models_dropping_the_least_recently_seen()
    {
        var metrics = NewMetrics();
        for (var i = 0; i < StudioMetrics.MaxKeys + 8; i++)
        {
            metrics.JobCompleted(new JobShape($"model-{i:00}", 10, 64, 64, 1, true), images: 1, TimeSpan.FromSeconds(1));
        }

        var figures = metrics.Figures();

        Assert.Equal(StudioMetrics.MaxKeys, figures.Steps.Count);
        Assert.DoesNotContain(figures.Steps, s => s.Model == "model-00");
        Assert.Contains(figures.Steps, s => s.Model == $"model-{StudioMetrics.MaxKeys + 7:00}");
    }

    [Fact]
    public void The_queue_gauge_reports_each_models_waiting_jobs_from_the_last_read_and_zero_once_its_line_is_empty()
    {
        var metrics = NewMetrics();
        var observed = new Dictionary<string, int>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "t2i.queue.length" && instrument.Meter.Scope == _services.GetRequiredService<IMeterFactory>())
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) => observed[(string)tags[0].Value!] = value);
        listener.Start();

        metrics.QueueRead(new FairOrder([Waiting("sd15"), Waiting("sd15"), Waiting("tiny")], []));
        listener.RecordObservableInstruments();
        Assert.Equal(new Dictionary<string, int> { ["sd15"] = 2, ["tiny"] = 1 }, observed);
        Assert.Equal([new QueueFigure("sd15", 2), new QueueFigure("tiny", 1)], metrics.Figures().Queue);

        metrics.QueueRead(new FairOrder([Waiting("tiny")], []));
        listener.RecordObservableInstruments();
        Assert.Equal(new Dictionary<string, int> { ["sd15"] = 0, ["tiny"] = 1 }, observed);
    }

    public void Dispose() => _services.Dispose();

    private StudioMetrics NewMetrics() => new(_services.GetRequiredService<IMeterFactory>(), _clock);

    private static QueuedJob Waiting(string model) =>
        new(Guid.NewGuid(), "someone", model, new JobShape(model, 20, 512, 512, 1, true), DateTimeOffset.UnixEpoch, 0, null);
}
