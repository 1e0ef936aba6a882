using System.Diagnostics;
using System.Globalization;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Bench;

/// <summary>
/// Images per second at batch 1, 2, 4, 8 for each model given, side by side in one run: k separate one-image jobs
/// (different prompts, seeds and guidance scales, as different people's) through the pipeline's cross-user
/// batching, and one job with BatchSize = k (one person's batch) for comparison.
/// </summary>
internal static class BatchBench
{
    /// <summary>
    /// <c>batch [--model DIR --size N --steps N]... [--device cpu] [--batches 1,2,4,8] [--repeat 2]</c>: each
    /// --model starts a model and the --size/--steps after it apply to that model (defaults: its own size, 25 steps).
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var models = new List<(string Folder, int? Size, int Steps)>();
        var device = DevicePreference.Auto;
        int[] batches = [1, 2, 4, 8];
        var repeat = 2;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--model":
                    models.Add((value, null, 25));
                    break;
                case "--size" when models.Count > 0:
                    models[^1] = models[^1] with { Size = int.Parse(value, CultureInfo.InvariantCulture) };
                    break;
                case "--steps" when models.Count > 0:
                    models[^1] = models[^1] with { Steps = int.Parse(value, CultureInfo.InvariantCulture) };
                    break;
                case "--device":
                    device = Enum.Parse<DevicePreference>(value, ignoreCase: true);
                    break;
                case "--batches":
                    batches = [.. value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))];
                    break;
                case "--repeat":
                    repeat = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"unknown or misplaced option {args[i]}");
                    return 2;
            }
        }
        if (models.Count == 0)
        {
            models.Add((Path.Combine(T2IStudio.Testing.RepositoryRoot.Path, "models", "t2istudio-tiny"), null, 25));
        }

        var rows = new List<string[]>();
        foreach (var (folder, sizeOption, steps) in models)
        {
            var info = ModelCatalog.Inspect(folder);
            if (!info.IsAvailable)
            {
                Console.Error.WriteLine($"{folder}: unavailable: {info.Problem}");
                return 1;
            }
            var size = sizeOption ?? info.Traits!.Defaults.Width;
            using var model = LoadedModel.Load(info, new ExecutionDevice(device));
            var pipeline = new StableDiffusionPipeline(model) { PreviewEvery = 0 };
            GenerationRequest Request(int k, int batchSize) => new()
            {
                Prompt = $"a small red circle above a large blue square, person {k}",
                NegativePrompt = k % 2 == 0 ? "" : "blurry",
                Steps = steps,
                Width = size,
                Height = size,
                Seed = (ulong)(1000 + k),
                BatchSize = batchSize,
                GuidanceScale = info.Traits!.IsLcm ? 8 : 6 + k % 3,
                Scheduler = info.Traits.IsLcm ? SchedulerKind.Lcm : SchedulerKind.EulerAncestral,
            };
            await pipeline.GenerateAsync(Request(0, 1) with { Steps = 1 }); // warm-up
            Console.WriteLine($"model {info.Id} on {model.Device.Name}: {size}x{size}, {steps} steps");

            double? baseline = null;
            foreach (var k in batches)
            {
                var oneJob = Median(repeat, () => pipeline.GenerateAsync(Request(0, k)).GetAwaiter().GetResult());
                string separate;
                try
                {
                    var members = Enumerable.Range(0, k).Select(j => new BatchMember(Request(j, 1), null, null, CancellationToken.None)).ToList();
                    var crossUser = Median(repeat, () =>
                    {
                        var outcomes = pipeline.GenerateBatchAsync(members).GetAwaiter().GetResult();
                        var failed = outcomes.FirstOrDefault(o => o.Error is not null);
                        if (failed is not null)
                        {
                            throw failed.Error!;
                        }
                    });
                    separate = $"{k / crossUser:0.000}";
                }
                catch (NotImplementedException)
                {
                    separate = "n/a (seam)";
                }
                var perSecond = k / oneJob;
                baseline ??= perSecond;
                rows.Add([info.Id, $"{size}²×{steps}", k.ToString(CultureInfo.InvariantCulture), separate, $"{perSecond:0.000}", $"{perSecond / baseline:0.00}x", $"{oneJob:0.000}"]);
            }
        }

        string[] header = ["model", "size×steps", "batch", "k jobs img/s", "1 job×k img/s", "speed-up", "s per call"];
        var widths = header.Select((h, c) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[c].Length))).ToArray();
        Console.WriteLine();
        Console.WriteLine(string.Join("  ", header.Select((h, c) => h.PadLeft(widths[c]))));
        foreach (var row in rows)
        {
            Console.WriteLine(string.Join("  ", row.Select((v, c) => v.PadLeft(widths[c]))));
        }
        Console.WriteLine("k jobs: k one-image jobs (own prompts, seeds, guidance) in one GenerateBatchAsync; 1 job×k: one request with BatchSize = k; speed-up against batch 1 of 1 job×k.");
        return 0;
    }

    // Median wall time in seconds of `count` runs.
    private static double Median(int count, Action run)
    {
        var times = new List<double>();
        for (var i = 0; i < count; i++)
        {
            var watch = Stopwatch.StartNew();
            run();
            times.Add(watch.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
