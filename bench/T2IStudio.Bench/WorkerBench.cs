using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Workers;
using T2IStudio.Web;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Workers;

namespace T2IStudio.Bench;

/// <summary>
/// Submit-to-first-preview and submit-to-image through the in-process worker and through a remote
/// <c>T2IStudio.Worker</c> process over the SignalR hub, in one run on one machine: two web hosts in this
/// process (one with <c>Queue:RunWorker=true</c>, one web-only on a loopback port with a worker key and the hub),
/// runs alternating between them after a warm-up on each. Also counts the previews each job brings, the bytes
/// on the remote worker's connection per job, and the round trip of one preview message over the hub.
/// </summary>
internal static class WorkerBench
{
    private const string Key = "bench-worker-key-0123456789abcdef0123456789";
    private const string WorkerName = "bench-remote";

    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name, string fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        var runs = int.Parse(Arg("--runs", "10"), CultureInfo.InvariantCulture);
        var steps = int.Parse(Arg("--steps", "25"), CultureInfo.InvariantCulture);
        var size = int.Parse(Arg("--size", "64"), CultureInfo.InvariantCulture);
        var batch = int.Parse(Arg("--batch", "1"), CultureInfo.InvariantCulture);
        var modelId = Arg("--model-id", "t2istudio-tiny");
        var root = Arg("--root", T2IStudio.Testing.RepositoryRoot.Path);

        await using var local = await Node.StartAsync(root, remote: false);
        await using var hub = await Node.StartAsync(root, remote: true);
        // The remote worker: dotnet T2IStudio.Worker.dll from its Release build output, killed on dispose.
        using var worker = T2IStudio.Testing.WorkerProcess.Start(hub.Url, Key, WorkerName, "release");
        await worker.WaitUntilReadyAsync();

        var info = local.Services.GetRequiredService<ModelHost>().Catalog.Find(modelId)
            ?? throw new InvalidOperationException($"No model '{modelId}' under {root}/models.");
        var defaults = info.Traits!.Defaults;
        var request = new GenerationRequest
        {
            Prompt = "a small red circle above a large blue square",
            Steps = steps,
            Width = size,
            Height = size,
            BatchSize = batch,
            GuidanceScale = defaults.Guidance,
            Scheduler = defaults.Scheduler,
            Seed = 1,
        };

        // Warm both paths once: model load (here and in the worker process), graph initialisation, JIT, first rows.
        // The remote one first: the in-process run after it lets the worker's last replies land before counting.
        await hub.RunAsync(modelId, request);
        await local.RunAsync(modelId, request);

        var inProcess = new List<Run>();
        var remote = new List<Run>();
        var wire = new List<(long Received, long Sent)>();
        var before = (hub.Wire!.Received, hub.Wire.Sent);
        for (var i = 0; i < runs; i++)
        {
            var seeded = request with { Seed = (ulong)(100 + i) };
            // Remote first, then in process: the in-process run lets the worker's Ready and the last replies of the
            // remote job land, so each window from one remote submit to the next holds exactly one job's traffic.
            if (i > 0)
            {
                wire.Add((hub.Wire.Received - before.Received, hub.Wire.Sent - before.Sent));
                before = (hub.Wire.Received, hub.Wire.Sent);
            }
            remote.Add(await hub.RunAsync(modelId, seeded));
            inProcess.Add(await local.RunAsync(modelId, seeded));
        }
        wire.Add((hub.Wire.Received - before.Received, hub.Wire.Sent - before.Sent));
        var pngBytes = await hub.PngBytesAsync(remote.Select(r => r.JobId));
        var previewJpeg = remote.Concat(inProcess).Select(r => r.LastPreviewJpeg).LastOrDefault(p => p is not null);
        var probe = previewJpeg is null ? null : await hub.ProbePreviewAsync(previewJpeg);

        Console.WriteLine($"model      {modelId} on {local.Services.GetRequiredService<ModelHost>().Device.Active.Name} in both (worker: --device cpu): {steps} steps at {size}x{size}, batch {batch}, {request.Scheduler}; {runs} alternating runs each after one warm-up; {Environment.ProcessorCount} cores");
        Console.WriteLine($"{"",-28}{"in process",24}{"remote (SignalR)",24}{"remote - in process",24}");
        Console.WriteLine($"{"",-28}{"median",12}{"p90",12}{"median",12}{"p90",12}{"median",12}{"p90",12}");
        Row("submit -> first preview ms", inProcess.Select(r => r.FirstPreview), remote.Select(r => r.FirstPreview));
        Row("submit -> image ms", inProcess.Select(r => r.Image), remote.Select(r => r.Image));
        Row("previews per job", inProcess.Select(r => (double)r.Previews), remote.Select(r => (double)r.Previews));
        Row("JPEG bytes per preview", inProcess.Select(r => r.PreviewBytes / Math.Max(1.0, r.Previews)), remote.Select(r => r.PreviewBytes / Math.Max(1.0, r.Previews)));
        var medianPreviews = Median(remote.Select(r => (double)r.Previews));
        Console.WriteLine();
        Console.WriteLine($"remote, bytes per job on the worker's connection (median of {wire.Count}): worker -> server {Median(wire.Select(w => (double)w.Received)),8:0} B, server -> worker {Median(wire.Select(w => (double)w.Sent)),6:0} B");
        Console.WriteLine($"           of which payload: previews {Median(remote.Select(r => (double)r.PreviewBytes)),6:0} B JPEG ({medianPreviews:0.#} a job), PNG upload {Median(pngBytes),6:0} B (rows' SizeBytes); the rest is the assignment, JSON/base64, WebSocket framing, Ready/Complete/heartbeat calls");
        if (probe is { } p)
        {
            Console.WriteLine($"per preview: one Progress call with a {previewJpeg!.Length} B JPEG: {p.WithPreviewBytes:0} B on the wire, round trip {p.WithPreview:0.000} ms; without a preview {p.WithoutPreviewBytes:0} B, {p.WithoutPreview:0.000} ms (median of {p.Count} each, alternating; the probe joins from this process as a worker holding no job, so the hub refuses the report: transport and dispatch only)");
            Console.WriteLine($"           so a preview adds {p.WithPreviewBytes - p.WithoutPreviewBytes:0} B and {p.WithPreview - p.WithoutPreview:0.000} ms of round trip; the worker does not wait for it (fire and forget), so a job pays its encoding CPU, not the round trip");
        }
        Console.WriteLine();
        Console.WriteLine("in process = GenerationService.SubmitAsync -> queue -> the web process's own worker loop (in-process transport) -> PNG + rows -> JobCompleted");
        Console.WriteLine("remote     = the same submit on a web-only host -> Assign over /hubs/workers -> T2IStudio.Worker process (Release build) -> Progress/UploadImage/Complete -> PNG + rows -> JobCompleted");
        Console.WriteLine("times are taken in this process from SubmitAsync to the first JobProgress with a preview and to JobCompleted, as a page sees them");
        return 0;
    }

    private static void Row(string name, IEnumerable<double> inProcess, IEnumerable<double> remote)
    {
        var (li, ri) = (inProcess.ToList(), remote.ToList());
        var (lm, lp, rm, rp) = (Median(li), P90(li), Median(ri), P90(ri));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-28}{lm,12:0.0}{lp,12:0.0}{rm,12:0.0}{rp,12:0.0}{rm - lm,12:+0.0;-0.0}{rp - lp,12:+0.0;-0.0}"));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>Nearest rank: the smallest value at or above 90 % of the runs.</summary>
    private static double P90(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[(int)Math.Ceiling(0.9 * sorted.Count) - 1];
    }

    private sealed record Run(Guid JobId, double FirstPreview, double Image, int Previews, long PreviewBytes, byte[]? LastPreviewJpeg);

    private sealed record Probe(int Count, double WithPreview, double WithoutPreview, double WithPreviewBytes, double WithoutPreviewBytes);

    /// <summary>One web host in this process with its own database and store: the in-process worker, or the hub on a loopback port.</summary>
    private sealed class Node : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly IServiceScope _scope;
        private readonly string _storage;
        private readonly ClaimsPrincipal _principal;
        private readonly string _userId;

        private Node(WebApplication app, IServiceScope scope, string storage, AppUser account, WireCounter? wire)
        {
            _app = app;
            _scope = scope;
            _storage = storage;
            _userId = account.Id;
            _principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, account.Id)], "bench"));
            Wire = wire;
            Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        }

        public IServiceProvider Services => _app.Services;

        public string Url { get; }

        /// <summary>Bytes on this host's connections (the hub host only).</summary>
        public WireCounter? Wire { get; }

        public static async Task<Node> StartAsync(string root, bool remote)
        {
            var storage = Directory.CreateTempSubdirectory(remote ? "t2i-bench-hub-" : "t2i-bench-local-").FullName;
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = root, EnvironmentName = "Production" });
            builder.Configuration["Storage:Root"] = storage;
            builder.Configuration["Generation:Device"] = "cpu";
            builder.Configuration["Urls"] = "http://127.0.0.1:0";
            builder.Configuration["Logging:LogLevel:Default"] = "Warning";
            // Each host makes a fresh key ring in its temporary store; the warning about it says nothing here.
            builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error";
            builder.Configuration["Queue:RunWorker"] = remote ? "false" : "true";
            WireCounter? wire = null;
            if (remote)
            {
                builder.Configuration["Workers:Keys:0"] = Key;
                wire = new WireCounter();
                builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Use(wire.Wrap)));
            }
            builder.AddStudioData();
            builder.AddStudioGeneration();
            builder.AddStudioWeb();
            var app = builder.Build();
            if (remote)
            {
                // Only what the hub needs (the worker-key scheme and policy): the pages are not measured here.
                app.UseRouting();
                app.UseAuthentication();
                app.UseAuthorization();
                app.MapWorkerHub();
            }
            await app.StartAsync();
            var scope = app.Services.CreateScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var account = new AppUser { UserName = "bench@example.test", Email = "bench@example.test", DisplayName = "bench", CreatedAt = DateTimeOffset.UtcNow };
            if (!(await users.CreateAsync(account, "Correct-horse-9")).Succeeded)
            {
                throw new InvalidOperationException("Could not create the benchmark account.");
            }
            return new Node(app, scope, storage, account, wire);
        }

        /// <summary>Submits one job as a page would and times it from the events its owner receives.</summary>
        public async Task<Run> RunAsync(string modelId, GenerationRequest request)
        {
            var events = _app.Services.GetRequiredService<StudioNotifier>();
            var generation = _scope.ServiceProvider.GetRequiredService<GenerationService>();
            var firstPreview = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
            var done = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
            var previews = 0;
            long previewBytes = 0;
            byte[]? last = null;
            var clock = Stopwatch.StartNew();
            using var subscription = events.Subscribe(_userId, e =>
            {
                if (e is JobProgress { PreviewJpeg: { } jpeg })
                {
                    firstPreview.TrySetResult(clock.Elapsed.TotalMilliseconds);
                    Interlocked.Increment(ref previews);
                    Interlocked.Add(ref previewBytes, jpeg.Length);
                    last = jpeg;
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
            var result = await generation.SubmitAsync(_principal, new JobRequest { Model = modelId, Request = request });
            var jobId = result.JobId ?? throw new InvalidOperationException(string.Join(" ", result.Errors));
            var image = await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
            var preview = firstPreview.Task.IsCompleted ? await firstPreview.Task : double.NaN;
            return new Run(jobId, preview, image, Volatile.Read(ref previews), Interlocked.Read(ref previewBytes), last);
        }

        /// <summary>The stored PNGs' sizes per job, from the image rows.</summary>
        public async Task<List<double>> PngBytesAsync(IEnumerable<Guid> jobIds)
        {
            var ids = jobIds.ToList();
            await using var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
            var rows = await db.Images.AsNoTracking().Where(i => ids.Contains(i.JobId)).Select(i => new { i.JobId, i.SizeBytes }).ToListAsync();
            return [.. rows.GroupBy(r => r.JobId).Select(g => (double)g.Sum(r => r.SizeBytes))];
        }

        /// <summary>
        /// Joins the hub as a worker with no models (so it is never given a job) and times Progress calls with and
        /// without <paramref name="jpeg"/>, alternating. The hub refuses them (no job held), so this is the protocol
        /// alone: serialisation, base64 in JSON, loopback, the hub's dispatch and reply; not the page event.
        /// </summary>
        public async Task<Probe> ProbePreviewAsync(byte[] jpeg)
        {
            var wire = Wire ?? throw new InvalidOperationException("Only the hub host can be probed.");
            await using var connection = new HubConnectionBuilder()
                .WithUrl(new Uri(new Uri(Url), WorkerHubNames.Path), options => options.AccessTokenProvider = () => Task.FromResult<string?>(Key))
                .Build();
            await connection.StartAsync();
            await connection.InvokeAsync<WorkerWelcome>(WorkerHubNames.Hello, new WorkerHello(Guid.NewGuid(), "bench-probe", "none", null, [], "bench"));
            const int count = 200;
            var (job, lease) = (Guid.NewGuid(), Guid.NewGuid());
            var with = new List<double>();
            var without = new List<double>();
            long withBytes = 0;
            long withoutBytes = 0;
            for (var i = 0; i < count + 20; i++)
            {
                foreach (var preview in new[] { jpeg, null })
                {
                    var received = wire.Received;
                    var clock = Stopwatch.StartNew();
                    await connection.InvokeAsync<bool>(WorkerHubNames.Progress, job, lease, 1, 25, preview);
                    var elapsed = clock.Elapsed.TotalMilliseconds;
                    if (i < 20)
                    {
                        continue; // warm-up: JIT and buffers
                    }
                    (preview is null ? without : with).Add(elapsed);
                    if (preview is null)
                    {
                        withoutBytes += wire.Received - received;
                    }
                    else
                    {
                        withBytes += wire.Received - received;
                    }
                }
            }
            return new Probe(count, Median(with), Median(without), (double)withBytes / count, (double)withoutBytes / count);
        }

        public async ValueTask DisposeAsync()
        {
            _scope.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(_storage, recursive: true);
        }
    }
}
