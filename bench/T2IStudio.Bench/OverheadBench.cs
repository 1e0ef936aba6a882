using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Bench;

/// <summary>
/// Where the pipeline's time over the floor goes: each piece of a generation timed alone, many times (medians),
/// next to the bare ONNX Runtime call it wraps.
/// <c>overhead [--model DIR] [--size 64] [--steps 25] [--device cpu] [--repeat 200]</c>.
/// </summary>
internal static class OverheadBench
{
    /// <summary>Prints one line per piece: median milliseconds, and per step where the piece runs every step.</summary>
    public static int Run(string[] args)
    {
        var options = args.ToList();
        string Arg(string name, string fallback) => options.IndexOf(name) is var i and >= 0 && i + 1 < options.Count ? options[i + 1] : fallback;
        var folder = Arg("--model", Path.Combine(T2IStudio.Testing.RepositoryRoot.Path, "models", "t2istudio-tiny"));
        var size = int.Parse(Arg("--size", "64"), CultureInfo.InvariantCulture);
        var steps = int.Parse(Arg("--steps", "25"), CultureInfo.InvariantCulture);
        var repeat = int.Parse(Arg("--repeat", "200"), CultureInfo.InvariantCulture);
        var info = ModelCatalog.Inspect(folder);
        if (!info.IsAvailable)
        {
            Console.Error.WriteLine($"{info.Id} is unavailable: {info.Problem}");
            return 1;
        }
        using var model = LoadedModel.Load(info, new ExecutionDevice(Enum.Parse<DevicePreference>(Arg("--device", "cpu"), ignoreCase: true)));
        var traits = model.Traits;
        var pipeline = new StableDiffusionPipeline(model) { PreviewEvery = 0 };
        var side = size / traits.VaeScaleFactor;
        const string prompt = "a small red circle above a large blue square";

        void Line(string name, double ms, bool perStep) =>
            Console.WriteLine($"{name,-44} {ms,9:0.000} ms{(perStep ? "  per step" : "  per image")}");

        var cond = pipeline.EncodePrompt(prompt);
        Line("EncodePrompt (one prompt, engine)", Median(repeat, () => pipeline.EncodePrompt(prompt)), false);
        var ids = new long[2 * 77];
        Line("TextEncoder.Run batch 2 (both prompts)", Median(repeat, () => model.TextEncoder.Run([ComponentInput.OfIntegers("input_ids", ids, 2, 77)])), false);
        Line("TextEncoder.Run batch 1", Median(repeat, () => model.TextEncoder.Run([ComponentInput.OfIntegers("input_ids", ids[..77], 1, 77)])), false);

        var uncond = pipeline.EncodeNegative("", cond);
        var conditioning = pipeline.Condition(cond, uncond, 1, 7, size, size);
        using var unet = new StableDiffusionPipeline.UnetRun(model, conditioning, new StableDiffusionPipeline.LatentBatch(1, side, side));
        using var runOptions = new RunOptions();
        var latents = new float[traits.LatentChannels * side * side];
        new GaussianNoise(1).Fill(latents);
        var sample = new float[2 * traits.UnetInputChannels * side * side];
        Line("UnetRun.Run (binding, values, read back)", Median(repeat, () => unet.Run(sample, 500, runOptions, CancellationToken.None)), true);
        Line("PredictNoise (+ guided batch, guidance)", Median(repeat, () => StableDiffusionPipeline.PredictNoise(unet, latents, 1.0, 500, null, runOptions, CancellationToken.None)), true);
        var binding = unet.Binding!;
        using var sampleValue = OrtValue.CreateTensorValueFromMemory(sample, [2, traits.UnetInputChannels, side, side]);
        using var output = OrtValue.CreateTensorValueFromMemory(new float[2 * traits.LatentChannels * side * side], [2, traits.LatentChannels, side, side]);
        using var timestep = OrtValue.CreateTensorValueFromMemory(new long[] { 500, 500 }, [2]);
        Line("raw RunWithBinding (floor's UNet call)", Median(repeat, () =>
        {
            binding.IoBinding.BindInput("sample", sampleValue);
            binding.IoBinding.BindInput("timestep", timestep);
            binding.IoBinding.BindOutput(model.Unet.OutputNames[0], output);
            binding.Session.RunWithBinding(runOptions, binding.IoBinding);
        }), true);

        foreach (var kind in new[] { SchedulerKind.EulerAncestral, SchedulerKind.Ddim })
        {
            var scheduler = SchedulerFactory.Create(kind, info.Scheduler!);
            scheduler.SetTimesteps(steps);
            var noise = new GaussianNoise(2);
            var prediction = new float[latents.Length];
            var i = 0;
            Line($"{kind} Step", Median(repeat, () =>
            {
                scheduler.Step(prediction, i % steps, latents, noise);
                i++;
            }), true);
        }
        Line("GaussianNoise.Fill (one image's latents)", Median(repeat, () => new GaussianNoise(3).Fill(latents)), true);
        Line("  same values one NextGaussian at a time", Median(repeat, () =>
        {
            var noise = new GaussianNoise(3);
            for (var k = 0; k < latents.Length; k++)
            {
                latents[k] = (float)noise.NextGaussian();
            }
        }), true);
        var decodeLatents = new float[latents.Length];
        Line("Decode (engine)", Median(repeat, () => pipeline.Decode(decodeLatents, 1, size, size, runOptions, CancellationToken.None)), false);
        Line("VaeDecoder.Run (raw values)", Median(repeat, () => model.VaeDecoder.Run([ComponentInput.OfFloats("latent_sample", decodeLatents, 1, traits.LatentChannels, side, side)])), false);
        var request0 = new GenerationRequest { Prompt = prompt, Steps = steps, Width = size, Height = size, Seed = 1, GuidanceScale = 7, Scheduler = SchedulerKind.EulerAncestral };
        Line("Validate", Median(repeat, () => pipeline.Validate(request0)), false);
        Line("SchedulerFactory.Create + SetTimesteps", Median(repeat, () => SchedulerFactory.Create(SchedulerKind.EulerAncestral, info.Scheduler!).SetTimesteps(steps)), false);
        Line("Condition (guided rows)", Median(repeat, () => pipeline.Condition(cond, uncond, 1, 7, size, size)), false);
        Line("UnetRun bind + dispose", Median(repeat, () => new StableDiffusionPipeline.UnetRun(model, conditioning, new StableDiffusionPipeline.LatentBatch(1, side, side)).Dispose()), false);
        Line("Task.Run round trip", Median(repeat, () => Task.Run(() => 0).GetAwaiter().GetResult()), false);
        var request = new GenerationRequest { Prompt = prompt, Steps = 1, Width = size, Height = size, Seed = 1, GuidanceScale = 7, Scheduler = SchedulerKind.EulerAncestral };
        Line("GenerateAsync, 1 step (fixed costs + 1 step)", Median(Math.Max(5, repeat / 10), () => pipeline.GenerateAsync(request).GetAwaiter().GetResult()), false);
        Line("Floor, 1 step", Median(Math.Max(5, repeat / 10), () => Floor.Run(model, size, 1, 2)), false);
        return 0;
    }

    // Median milliseconds of `count` runs, after a tenth as many untimed (tiered JIT, ONNX Runtime's arena).
    private static double Median(int count, Action run)
    {
        for (var i = 0; i < Math.Max(3, count / 10); i++)
        {
            run();
        }
        var times = new double[count];
        for (var i = 0; i < count; i++)
        {
            var watch = Stopwatch.StartNew();
            run();
            times[i] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times[count / 2];
    }
}
