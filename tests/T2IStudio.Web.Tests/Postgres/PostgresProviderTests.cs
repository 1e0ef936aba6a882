using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Tests.Postgres;

/// <summary>The app on <c>Database:Provider=postgres</c>: migrations, accounts and a whole job on a real server.</summary>
public sealed class PostgresProviderTests
{
    [Fact]
    public async Task The_app_migrates_an_empty_PostgreSQL_database_and_runs_a_job_on_it()
    {
        await using var app = await PostgresAppFactory.StartAsync();
        var user = await app.CreateUserAsync("pg@example.test");
        var (jobId, images) = await app.GenerateAsync(user, Integration.GenerationQueueTests.Request(prompt: "a red circle", steps: 2));

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.True(db.Database.IsNpgsql());
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Equal(images.Single(), (await db.Images.SingleAsync(i => i.JobId == jobId)).Id);
    }
}
