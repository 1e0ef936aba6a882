using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;

namespace T2IStudio.CrashDrill;

/// <summary>The process the drill kills: the real app on a storage root, and a person submitting to it.</summary>
internal static class DrillChild
{
    public const string Email = "drill@example.test";
    private const string Password = "Correct-horse-9";
    private const string Model = "t2istudio-tiny";

    /// <summary>
    /// Starts the app (recovery runs before it listens), then submits text-to-image jobs and inpaints of the
    /// person's own images for ever, printing <c>ACK id</c> once SubmitAsync has returned each id. With
    /// <paramref name="drain"/> it submits nothing and exits once no job is waiting or running.
    /// </summary>
    public static async Task<int> WorkAsync(string storage, int seed, bool drain)
    {
        await using var app = Build(storage);
        app.UseStudioPipeline();
        app.MapStudioEndpoints();
        await app.StartAsync();
        Console.WriteLine("READY");
        using var scope = app.Services.CreateScope();
        var userId = await EnsureAccountAsync(scope.ServiceProvider);
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, userId)], "drill"));
        var generation = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var dbFactory = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        using var finished = new SemaphoreSlim(0);
        using var subscription = app.Services.GetRequiredService<StudioNotifier>().Subscribe(userId, e =>
        {
            if (e is JobCompleted or JobFailed or JobCanceled)
            {
                finished.Release();
            }
            return Task.CompletedTask;
        });
        var random = new Random(seed);
        // The drill ends this process with SIGKILL; a SIGTERM (Ctrl+C, timeout) still stops it the ordinary way.
        var stopping = app.Lifetime.ApplicationStopping;
        while (!stopping.IsCancellationRequested)
        {
            if (drain)
            {
                await using var db = await dbFactory.CreateDbContextAsync();
                if (!await db.Jobs.AnyAsync(j => j.Status == JobStatus.Queued || j.Status == JobStatus.Running))
                {
                    Console.WriteLine("DRAINED");
                    await app.StopAsync();
                    return 0;
                }
                await finished.WaitAsync(TimeSpan.FromSeconds(1), CancellationToken.None);
                continue;
            }
            var result = await SubmitOneAsync(generation, dbFactory, principal, userId, random);
            if (result.Succeeded)
            {
                Console.WriteLine("ACK " + result.JobId!.Value.ToString("D"));
            }
            else if (result.Errors.Any(e => e.Contains("the most allowed", StringComparison.Ordinal)))
            {
                await finished.WaitAsync(TimeSpan.FromSeconds(1)); // the quota is full: wait for one to finish
            }
            else
            {
                Console.WriteLine("REFUSED " + string.Join(" ", result.Errors));
                return 3;
            }
        }
        await app.StopAsync();
        return 0;
    }

    /// <summary>Runs the app's start-up recovery alone (no worker, no server) and prints what it did.</summary>
    public static async Task<int> RecoverAsync(string storage)
    {
        var report = await RecoverInProcessAsync(storage);
        Console.WriteLine($"RECOVERED {report.Requeued} {report.Interrupted} {report.Waiting} {report.OrphansRemoved}");
        return 0;
    }

    /// <summary>Builds the app on <paramref name="storage"/> without starting it and runs exactly its start-up recovery.</summary>
    public static async Task<RecoveryReport> RecoverInProcessAsync(string storage)
    {
        await using var app = Build(storage);
        await app.InitializeDatabaseAsync();
        var report = await app.Services.GetRequiredService<QueueRecovery>().RecoverAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        return report;
    }

    private static WebApplication Build(string storage)
    {
        if (storage.Length == 0)
        {
            throw new FormatException("--storage is required");
        }
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            // The web app's own name: its static-assets manifest, as in the real app.
            ApplicationName = "T2IStudio.Web",
            ContentRootPath = T2IStudio.Testing.RepositoryRoot.Path,
            EnvironmentName = "Production",
        });
        builder.Configuration["Storage:Root"] = storage;
        builder.Configuration["Generation:Device"] = "cpu";
        builder.Configuration["Urls"] = "http://127.0.0.1:0";
        builder.Configuration["Queue:MaxQueuedPerUser"] = "4";
        builder.Configuration["Logging:LogLevel:Default"] = "Warning";
        builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error";
        builder.Configuration["Logging:LogLevel:T2IStudio.Web.Jobs.QueueRecovery"] = "Information";
        builder.AddStudioData();
        builder.AddStudioGeneration();
        builder.AddStudioWeb();
        return builder.Build();
    }

    private static async Task<string> EnsureAccountAsync(IServiceProvider services)
    {
        var users = services.GetRequiredService<UserManager<AppUser>>();
        if (await users.FindByEmailAsync(Email) is { } existing)
        {
            return existing.Id;
        }
        var account = new AppUser { UserName = Email, Email = Email, DisplayName = "drill", CreatedAt = DateTimeOffset.UtcNow };
        var created = await users.CreateAsync(account, Password);
        if (!created.Succeeded)
        {
            // Killed between the insert and here last time? Then it exists now.
            return (await users.FindByEmailAsync(Email))?.Id ?? throw new InvalidOperationException(string.Join(" ", created.Errors.Select(e => e.Description)));
        }
        return account.Id;
    }

    private static async Task<SubmitResult> SubmitOneAsync(GenerationService generation, IDbContextFactory<AppDbContext> dbFactory, ClaimsPrincipal principal, string userId, Random random)
    {
        var request = new GenerationRequest
        {
            Prompt = random.Next(3) switch { 0 => "a small red circle above a large blue square", 1 => "a green triangle", _ => "a yellow star on black" },
            Steps = random.Next(3, 9),
            Width = 64,
            Height = 64,
            GuidanceScale = 4,
            Scheduler = SchedulerKind.Ddim,
            Seed = (ulong)random.Next(),
            BatchSize = random.Next(1, 3),
        };
        if (random.Next(3) == 0)
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            var sources = await db.Images.Where(i => i.OwnerId == userId).OrderByDescending(i => i.CreatedAt).Select(i => new { i.Id, i.Width, i.Height }).Take(5).ToListAsync();
            if (sources.Count > 0)
            {
                var source = sources[random.Next(sources.Count)];
                var values = new byte[source.Width * source.Height];
                for (var y = source.Height / 4; y < source.Height * 3 / 4; y++)
                {
                    Array.Fill(values, (byte)255, y * source.Width + source.Width / 4, source.Width / 2);
                }
                return await generation.SubmitInpaintAsync(principal, new InpaintJobRequest
                {
                    Model = Model,
                    Request = request with { Width = source.Width, Height = source.Height, BatchSize = 1, Strength = 0.8 },
                    SourceImageId = source.Id,
                    MaskPng = MaskFiles.Encode(new GrayMask(source.Width, source.Height, values)),
                });
            }
        }
        return await generation.SubmitAsync(principal, new JobRequest { Model = Model, Request = request });
    }
}
