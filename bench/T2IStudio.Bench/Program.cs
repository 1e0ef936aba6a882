using System.Diagnostics;
using System.Globalization;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;

// Benchmarks: figures and ratios measured side by side in one run (never timed assertions).
//   dotnet run -c Release --project bench/T2IStudio.Bench -- --model DIR [--device cpu|cuda|auto] [--size 512] [--steps 20] [--shape-sessions N] [--resident on|off] [--previews on|off]
//     load time, warm step time, preview cost per step (and its share of a step), end-to-end time per image;
//     --shape-sessions 0 runs on the session with free dimensions, N > 0 on sessions fixed to the size (default: by device);
//     --resident on keeps the latents on the device through the loop, off runs guidance and the sampler on the host (default: by device).
//     and, in the same run, the floor: the same sessions in a bare loop (text encoder once, UNet N times at the guided batch, VAE once),
//     printing both times and the ratio pipeline / floor.
//   dotnet run -c Release --project bench/T2IStudio.Bench -- queue [--runs 10] [--steps 25] [--device cpu]
//     submit-to-first-preview and submit-to-image through the web app's queue, next to the engine called directly.
//   dotnet run -c Release --project bench/T2IStudio.Bench -- batch [--model DIR [--size N] [--steps N]]... [--device cpu] [--batches 1,2,4,8]
//     images per second at batch 1, 2, 4, 8 per model, side by side: k one-image jobs batched across users, and one job of BatchSize k.
//   dotnet run -c Release --project bench/T2IStudio.Bench -- overhead [--model DIR] [--size 64] [--steps 25] [--repeat 200]
//     each piece of a generation timed alone next to the bare ONNX Runtime call it wraps: where the time over the floor goes.
//   dotnet run -c Release --project bench/T2IStudio.Bench -- workers [--runs 10] [--steps 25] [--size 64] [--batch 1]
//     the same through the in-process worker and a remote T2IStudio.Worker process over /hubs/workers, side by side:
//     the remote path's cost per job, previews per job, bytes on the worker's connection, one preview's round trip.
//   dotnet run -c Release --project bench/T2IStudio.Bench -- circuits [--tabs 40] [--images 200] [--idle 5] [--retention 5] [--pages create,gallery,inpaint,team,personal]
//     [--breakdown] [--gcdump DIR] [--screenshots DIR]
//     server memory per idle circuit (managed heap after a full GC, RSS) with N Chromium tabs on each page, the 500-tab
//     projection, and the heap once the tabs are closed and their circuits released.

if (args.Length > 0 && args[0] == "queue")
{
    return await T2IStudio.Bench.QueueBench.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "batch")
{
    return await T2IStudio.Bench.BatchBench.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "overhead")
{
    return T2IStudio.Bench.OverheadBench.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "circuits")
{
    return await T2IStudio.Bench.CircuitBench.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "workers")
{
    return await T2IStudio.Bench.WorkerBench.RunAsync(args[1..]);
}

var args_ = args.ToList();
string Arg(string name, string fallback) => args_.IndexOf(name) is var i and >= 0 && i + 1 < args_.Count ? args_[i + 1] : fallback;
var folder = Arg("--model", "");
if (folder.Length == 0 || !Directory.Exists(folder))
{
    Console.Error.WriteLine("usage: T2IStudio.Bench --model DIR [--device cpu|cuda|auto] [--size N] [--steps N] [--repeat N] [--shape-sessions N] [--resident on|off]");
    return 2;
}
var device = Enum.Parse<DevicePreference>(Arg("--device", "auto"), ignoreCase: true);
var steps = int.Parse(Arg("--steps", "20"), CultureInfo.InvariantCulture);
var repeat = int.Parse(Arg("--repeat", "3"), CultureInfo.InvariantCulture);
int? shapeSessions = Arg("--shape-sessions", "") is { Length: > 0 } n ? int.Parse(n, CultureInfo.InvariantCulture) : null;
bool? resident = Arg("--resident", "") switch { "on" => true, "off" => false, _ => null };
var info = ModelCatalog.Inspect(folder);
if (!info.IsAvailable)
{
    Console.Error.WriteLine($"{info.Id} is unavailable: {info.Problem}");
    return 1;
}
var size = int.Parse(Arg("--size", (info.Traits!.VaeScaleFactor * 64).ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

var clock = Stopwatch.StartNew();
var executionDevice = new ExecutionDevice(device, shapeSessions: shapeSessions, residentLatents: resident);
using var model = LoadedModel.Load(info, executionDevice);
var loadMs = clock.Elapsed.TotalMilliseconds;
Console.WriteLine($"model     {info.Id} ({info.Summary}) on {model.Device.Name}: {model.Device.Reason}");
Console.WriteLine($"sessions  {(executionDevice.ShapeSessions == 0 ? "free dimensions" : $"fixed to the size in use (up to {executionDevice.ShapeSessions} sizes)")}");
Console.WriteLine($"latents   {(executionDevice.ResidentLatents ? "resident on the device (guidance and sampler steps as device graphs)" : "host loop (guidance and sampler in C#)")}");
Console.WriteLine($"load      {loadMs,10:0.0} ms");

var request = new GenerationRequest
{
    Prompt = "a small red circle above a large blue square",
    Steps = steps,
    Width = size,
    Height = size,
    Seed = 1,
    GuidanceScale = info.Traits.IsLcm ? 8 : 7,
    Scheduler = info.Traits.IsLcm ? SchedulerKind.Lcm : SchedulerKind.EulerAncestral,
};
var quiet = new StableDiffusionPipeline(model) { PreviewEvery = 0 };
var previewing = new StableDiffusionPipeline(model) { PreviewEvery = 1 };
await quiet.GenerateAsync(request with { Steps = 1 }); // warm-up: graph initialisation, allocator

double Run(StableDiffusionPipeline pipeline, int count)
{
    var times = new List<double>();
    for (var i = 0; i < count; i++)
    {
        var watch = Stopwatch.StartNew();
        pipeline.GenerateAsync(request).GetAwaiter().GetResult();
        times.Add(watch.Elapsed.TotalMilliseconds);
    }
    times.Sort();
    return times[times.Count / 2];
}

// --previews off skips the preview rows: on a model of SD 1.5's size on the CPU each extra run costs minutes, so
// the interleaved runs below give the image time too.
var measurePreviews = Arg("--previews", "on") != "off";
var withoutPreviews = measurePreviews ? Run(quiet, repeat) : 0;

// The floor, interleaved with the pipeline so both see the same machine load: medians of `repeat` each.
var guidedRows = request.GuidanceScale > 1 && !info.Traits.IsLcm ? 2 : 1;
T2IStudio.Bench.Floor.Run(model, size, 1, guidedRows); // its own warm-up
var pipelineTimes = new List<double>();
var floorTimes = new List<double>();
var outsideTimes = new List<double>();
var insideTimes = new List<double>();
var pipelineRatios = new List<double>();
for (var i = 0; i < repeat; i++)
{
    // The same run also split in place: its time inside ONNX Runtime's run calls and the rest (the engine's own work),
    // a reading that does not depend on the machine's load staying the same between the floor and the pipeline.
    var inside = T2IStudio.Generation.Onnx.OnnxRunClock.Elapsed;
    var total = Run(quiet, 1);
    var ort = (T2IStudio.Generation.Onnx.OnnxRunClock.Elapsed - inside).TotalMilliseconds;
    pipelineTimes.Add(total);
    insideTimes.Add(ort);
    outsideTimes.Add(total - ort);
    pipelineRatios.Add(total / ort);
    floorTimes.Add(T2IStudio.Bench.Floor.Run(model, size, steps, guidedRows));
}
outsideTimes.Sort();
insideTimes.Sort();
pipelineTimes.Sort();
floorTimes.Sort();
var pipelineMedian = pipelineTimes[repeat / 2];
var floorMedian = floorTimes[repeat / 2];
withoutPreviews = measurePreviews ? withoutPreviews : pipelineMedian;
var withPreviews = measurePreviews ? Run(previewing, repeat) : withoutPreviews;
var perStep = withoutPreviews / steps;
var previewPerStep = Math.Max(0, withPreviews - withoutPreviews) / steps;

// The projection alone, at this latent size, many times (the difference above is noisy for fast models).
var latentSide = size / info.Traits.VaeScaleFactor;
var latents = new float[info.Traits.LatentChannels * latentSide * latentSide];
new T2IStudio.Generation.Noise.GaussianNoise(1).Fill(latents);
for (var i = 0; i < 100; i++)
{
    // Past tiered JIT's first tiers before timing.
    LatentPreview.Render(latents, 0, info.Traits.LatentChannels, latentSide, latentSide, info.Traits.Family, info.Traits.VaeScalingFactor);
}
var projection = Stopwatch.StartNew();
const int projections = 500;
for (var i = 0; i < projections; i++)
{
    LatentPreview.Render(latents, 0, info.Traits.LatentChannels, latentSide, latentSide, info.Traits.Family, info.Traits.VaeScalingFactor);
}
var projectionMs = projection.Elapsed.TotalMilliseconds / projections;

Console.WriteLine($"image     {withoutPreviews,10:0.0} ms  ({steps} steps at {size}x{size}, median of {repeat}, no previews)");
Console.WriteLine($"step      {perStep,10:0.00} ms  (end-to-end time / steps, text encoder and VAE included)");
Console.WriteLine($"preview   {projectionMs,10:0.000} ms  per projection at {latentSide}x{latentSide} latents = {projectionMs / perStep:P2} of a step");
Console.WriteLine($"previews  {previewPerStep,10:0.000} ms  measured per step with a preview every step (noisy) = {previewPerStep / perStep:P2} of a step");
Console.WriteLine($"floor     {floorMedian,10:0.0} ms  (the same sessions in a bare loop: text encoder once, UNet {steps}x at batch {guidedRows}, VAE once; median of {repeat})");
Console.WriteLine($"pipeline  {pipelineMedian,10:0.0} ms  (interleaved with the floor; median of {repeat})");
Console.WriteLine($"ratio     {pipelineMedian / floorMedian,10:0.000}x  pipeline / floor = {(pipelineMedian - floorMedian) / steps:0.000} ms per step outside ONNX Runtime");
var outsideMedian = outsideTimes[repeat / 2];
var insideMedian = insideTimes[repeat / 2];
var inRunRatios = pipelineRatios.Order().ToList();
Console.WriteLine($"in run    {inRunRatios[repeat / 2],10:0.000}x  (each pipeline run / its time inside ONNX Runtime's run calls, median of {repeat}; {insideMedian:0.0} ms inside, {outsideMedian:0.0} ms outside = {outsideMedian / steps:0.000} ms per step)");
return 0;
