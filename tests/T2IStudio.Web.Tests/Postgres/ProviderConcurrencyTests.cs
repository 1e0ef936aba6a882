using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Tests.Integration;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Postgres;

/// <summary>Concurrency stamps refuse a write made from a stale read, on both engines.</summary>
public sealed class ProviderConcurrencyTests
{
    [Theory]
    [MemberData(nameof(Providers.Both), MemberType = typeof(Providers))]
    public async Task A_cancel_read_before_a_lease_cannot_overwrite_the_leased_job(string provider)
    {
        await using var app = await Providers.StartAsync(provider, new Dictionary<string, string?> { ["Queue:RunWorker"] = "false", ["Workers:LeaseSeconds"] = "3600" });
        var owner = await app.CreateUserAsync("stamp-job@example.test");
        Guid jobId;
        using (var scope = app.Services.CreateScope())
        {
            jobId = (await scope.ServiceProvider.GetRequiredService<GenerationService>().SubmitAsync(StudioAppFactory.PrincipalOf(owner), GenerationQueueTests.Request(steps: 2))).JobId!.Value;
        }
        var dbFactory = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using var canceller = await dbFactory.CreateDbContextAsync();
        var stale = await canceller.Jobs.SingleAsync(j => j.Id == jobId);

        var worker = app.Services.GetRequiredService<WorkerRegistry>().Join(new WorkerHello(Guid.NewGuid(), "stamp-worker", "cpu", null, ["t2istudio-tiny"], "test"), WorkerKind.Remote, _ => Task.CompletedTask);
        var lease = await app.Services.GetRequiredService<JobLifecycle>().TryLeaseAsync(worker, CancellationToken.None);
        Assert.Equal(jobId, lease?.JobId);

        stale.Status = JobStatus.Canceled;
        stale.ConcurrencyStamp = Guid.NewGuid();
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => canceller.SaveChangesAsync());
        await using var check = await dbFactory.CreateDbContextAsync();
        var row = await check.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId);
        Assert.Equal((JobStatus.Running, lease!.LeaseId), (row.Status, row.LeaseId));
    }

    [Theory]
    [MemberData(nameof(Providers.Both), MemberType = typeof(Providers))]
    public async Task Two_renames_of_a_team_from_the_same_read_save_only_the_first(string provider)
    {
        await using var app = await Providers.StartAsync(provider, new Dictionary<string, string?> { ["Queue:RunWorker"] = "false" });
        var owner = await app.CreateUserAsync("stamp-team@example.test");
        Guid teamId;
        using (var scope = app.Services.CreateScope())
        {
            teamId = (await scope.ServiceProvider.GetRequiredService<TeamService>().CreateAsync(StudioAppFactory.PrincipalOf(owner), "Before")).Id!.Value;
        }
        var dbFactory = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using var one = await dbFactory.CreateDbContextAsync();
        await using var two = await dbFactory.CreateDbContextAsync();
        var first = await one.Teams.SingleAsync(t => t.Id == teamId);
        var second = await two.Teams.SingleAsync(t => t.Id == teamId);

        first.Name = "First";
        first.ConcurrencyStamp = Guid.NewGuid();
        await one.SaveChangesAsync();
        second.Name = "Second";
        second.ConcurrencyStamp = Guid.NewGuid();
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => two.SaveChangesAsync());

        await using var check = await dbFactory.CreateDbContextAsync();
        Assert.Equal("First", (await check.Teams.AsNoTracking().SingleAsync(t => t.Id == teamId)).Name);
    }
}
