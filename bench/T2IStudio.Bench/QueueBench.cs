using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Bench;

/// <summary>
/// Submit-to-first-preview and submit-to-image latency through the web app's generation service (queue,
/// database, worker, image store, events), next to the engine called directly on the same loaded model, in
/// one run. Runs alternate so both see the same machine state.
/// </summary>
internal static class QueueBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name, string fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        var runs = int.Parse(Arg("--runs", "10"), CultureInfo.InvariantCulture);
        var steps = int.Parse(Arg("--steps", "25"), CultureInfo.InvariantCulture);
        var modelId = Arg("--model-id", "t2istudio-tiny");
        var root = Arg("--root", T2IStudio.Testing.RepositoryRoot.Path);
        var storage = Directory.CreateTempSubdirectory("t2i-bench-").FullName;

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = root, EnvironmentName = "Production" });
        builder.Configuration["Storage:Root"] = storage;
        builder.Configuration["Generation:Device"] = Arg("--device", "cpu");
        builder.Configuration["Urls"] = "http://127.0.0.1:0";
        builder.Configuration["Logging:LogLevel:Default"] = "Warning";
        builder.AddStudioData();
        builder.AddStudioGeneration();
        builder.AddStudioWeb();
        await using var app = builder.Build();
        // No endpoints: the path measured is the one a circuit takes (service → queue → worker → events).
        await app.StartAsync();
        try
        {
            var services = app.Services;
            using var scope = services.CreateScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var account = new AppUser { UserName = "bench@example.test", Email = "bench@example.test", DisplayName = "bench", CreatedAt = DateTimeOffset.UtcNow };
            if (!(await users.CreateAsync(account, "Correct-horse-9")).Succeeded)
            {
                throw new InvalidOperationException("Could not create the benchmark account.");
            }
            var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, account.Id)], "bench"));
            var generation = scope.ServiceProvider.GetRequiredService<GenerationService>();
            var events = services.GetRequiredService<StudioNotifier>();
            var host = services.GetRequiredService<ModelHost>();
            var info = host.Catalog.Find(modelId) ?? throw new InvalidOperationException($"No model '{modelId}' under {root}/models.");
            var defaults = info.Traits!.Defaults;
            var request = new GenerationRequest
            {
                Prompt = "a small red circle above a large blue square",
                Steps = steps,
                Width = defaults.Width,
                Height = defaults.Height,
                GuidanceScale = defaults.Guidance,
                Scheduler = defaults.Scheduler,
                Seed = 1,
            };

            // Warm both paths once (model load, graph initialisation, JIT, first database writes).
            await EngineAsync(host, modelId, request);
            await WebAsync(generation, events, principal, account.Id, modelId, request);

            var engine = new List<(double Preview, double Image)>();
            var web = new List<(double Preview, double Image)>();
            for (var i = 0; i < runs; i++)
            {
                var seeded = request with { Seed = (ulong)(100 + i) };
                engine.Add(await EngineAsync(host, modelId, seeded));
                web.Add(await WebAsync(generation, events, principal, account.Id, modelId, seeded));
            }

            Console.WriteLine($"model     {modelId} on {host.Device.Active.Name} ({host.Device.Active.Reason}): {steps} steps at {request.Width}x{request.Height}, {request.Scheduler}, median of {runs} alternating runs");
            Row("first preview", engine.Select(r => r.Preview), web.Select(r => r.Preview));
            Row("image", engine.Select(r => r.Image), web.Select(r => r.Image));
            Console.WriteLine("          engine = StableDiffusionPipeline.GenerateAsync on the same loaded model (no PNG, no store)");
            Console.WriteLine("          web    = GenerationService.SubmitAsync → queue → worker → PNG + thumbnail + rows → JobCompleted event");
            return 0;
        }
        finally
        {
            await app.StopAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(storage, recursive: true);
        }
    }

    private static void Row(string name, IEnumerable<double> engine, IEnumerable<double> web)
    {
        var e = Median(engine);
        var w = Median(web);
        Console.WriteLine($"{name,-14} engine {e,8:0.0} ms   web {w,8:0.0} ms   overhead {w - e,7:0.0} ms ({(w - e) / e:P0})");
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static async Task<(double Preview, double Image)> EngineAsync(ModelHost host, string modelId, GenerationRequest request)
    {
        using var lease = host.Acquire(modelId);
        var pipeline = new StableDiffusionPipeline(lease.Model) { PreviewEvery = 1 };
        var clock = Stopwatch.StartNew();
        double preview = -1;
        var progress = new Inline(p =>
        {
            if (preview < 0 && p.Preview is not null)
            {
                preview = clock.Elapsed.TotalMilliseconds;
            }
        });
        await pipeline.GenerateAsync(request, progress);
        return (preview, clock.Elapsed.TotalMilliseconds);
    }

    private static async Task<(double Preview, double Image)> WebAsync(GenerationService generation, StudioNotifier events, ClaimsPrincipal principal, string userId, string modelId, GenerationRequest request)
    {
        var firstPreview = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Stopwatch.StartNew();
        using var subscription = events.Subscribe(userId, e =>
        {
            if (e is JobProgress { PreviewJpeg: not null })
            {
                firstPreview.TrySetResult(clock.Elapsed.TotalMilliseconds);
            }
            else if (e is JobCompleted)
            {
                done.TrySetResult(clock.Elapsed.TotalMilliseconds);
            }
            else if (e is JobFailed failed)
            {
                done.TrySetException(new InvalidOperationException(failed.Error));
            }
            return Task.CompletedTask;
        });
        var result = await generation.SubmitAsync(principal, new JobRequest { Model = modelId, Request = request });
        _ = result.JobId ?? throw new InvalidOperationException(string.Join(" ", result.Errors));
        var image = await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
        return (await firstPreview.Task.WaitAsync(TimeSpan.FromSeconds(1)), image);
    }

    private sealed class Inline(Action<GenerationProgress> report) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value) => report(value);
    }
}
