using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Components.Admin;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Telemetry;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components;

/// <summary>Admin → Generation engine's live figures: the empty state, the figures with their labels, and the two-second refresh.</summary>
public sealed class EngineActivityTests : StudioComponentTestBase
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    public EngineActivityTests() => Services.AddSingleton<TimeProvider>(_clock);

    [Fact]
    public void Before_any_job_the_panel_says_nothing_ran_yet_and_still_shows_workers_circuits_and_the_queue()
    {
        var panel = Render<EngineActivity>();

        Assert.Contains("No jobs have run since the server started", panel.Markup, StringComparison.Ordinal);
        Assert.Equal("0.00", panel.Find("[data-testid=engine-images-rate]").TextContent.Trim());
        Assert.Equal("0", panel.Find("[data-testid=engine-workers]").TextContent.Trim());
        Assert.Equal("0", panel.Find("[data-testid=engine-waiting]").TextContent.Trim());
        Assert.Empty(panel.FindAll("[data-testid=engine-models]"));
        Assert.Empty(panel.FindAll("[data-testid=engine-failures]"));
    }

    [Fact]
    public void The_panel_shows_wait_run_time_seconds_per_step_batch_fill_images_circuits_queue_and_failures_by_reason()
    {
        var metrics = Services.GetRequiredService<StudioMetrics>();
        var now = _clock.GetUtcNow();
        metrics.QueueRead(new FairOrder([Waiting("t2istudio-tiny"), Waiting("t2istudio-tiny")], []));
        metrics.JobLeased(new Job { Model = "t2istudio-tiny", CreatedAt = now.AddSeconds(-2), Attempts = 1 }, now);
        metrics.JobCompleted(new JobShape("t2istudio-tiny", 25, 64, 64, 2, true), images: 2, TimeSpan.FromSeconds(5));
        metrics.BatchFormed("t2istudio-tiny", images: 2, capacity: 8);
        metrics.JobEnded(JobStatus.Failed, JobLifecycle.TimeLimitError(30));
        metrics.CircuitOpened();

        var panel = Render<EngineActivity>();

        Assert.DoesNotContain("No jobs have run", panel.Markup, StringComparison.Ordinal);
        var model = panel.Find("[data-testid=engine-models] tbody tr");
        Assert.Equal(["t2istudio-tiny", "2.00 s / 2.00 s", "5.00 s / 5.00 s", "25%", "2"], model.QuerySelectorAll("td").Select(c => c.TextContent.Trim()));
        var step = panel.Find("[data-testid=engine-steps] tbody tr");
        Assert.Equal(["t2istudio-tiny", "64×64", "0.20 s / 0.20 s", "1"], step.QuerySelectorAll("td").Select(c => c.TextContent.Trim()));
        Assert.Equal("Time limit: 1", panel.Find("[data-reason=time_limit]").TextContent.Trim());
        Assert.Equal("Cancelled: 0", panel.Find("[data-reason=canceled]").TextContent.Trim());
        Assert.Equal("1", panel.Find("[data-testid=engine-circuits]").TextContent.Trim());
        Assert.Equal("2", panel.Find("[data-testid=engine-waiting]").TextContent.Trim());
        Assert.Contains("t2istudio-tiny: 2", panel.Markup, StringComparison.Ordinal);
        Assert.Equal("0.03", panel.Find("[data-testid=engine-images-rate]").TextContent.Trim());
        Assert.Equal(
            ["Model", "Wait (median / p95)", "Run time (median / p95)", "Batch fill (mean)", "Images"],
            panel.FindAll("[data-testid=engine-models] thead th").Select(h => h.TextContent.Trim()));
    }

    [Fact]
    public void A_job_that_finishes_while_the_panel_is_open_shows_at_the_next_two_second_refresh()
    {
        var metrics = Services.GetRequiredService<StudioMetrics>();
        var panel = Render<EngineActivity>();
        Assert.Contains("No jobs have run since the server started", panel.Markup, StringComparison.Ordinal);

        metrics.JobCompleted(new JobShape("t2istudio-tiny", 10, 64, 64, 1, true), images: 1, TimeSpan.FromSeconds(1));
        Assert.Contains("No jobs have run since the server started", panel.Markup, StringComparison.Ordinal);
        _clock.Advance(EngineActivity.RefreshInterval);

        panel.WaitForAssertion(() => Assert.Equal("0.10 s / 0.10 s", panel.Find("[data-testid=engine-steps] tbody tr td:nth-child(3)").TextContent.Trim()));
    }

    private static QueuedJob Waiting(string model) =>
        new(Guid.NewGuid(), "someone", model, new JobShape(model, 25, 64, 64, 1, true), DateTimeOffset.UnixEpoch, 0, null);
}
