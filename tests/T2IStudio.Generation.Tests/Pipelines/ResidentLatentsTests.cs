using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Tests.Imaging;

namespace T2IStudio.Generation.Tests.Pipelines;

/// <summary>
/// The resident loop (latents, UNet output and sampler history kept in the device's memory, steps as the
/// engine's own graphs) against the host loop, run here through ONNX Runtime's CPU provider: the same code
/// path as CUDA apart from where the allocator puts the tensors.
/// </summary>
public sealed class ResidentLatentsTests
{
    private static GenerationRequest Request(SchedulerKind scheduler = SchedulerKind.EulerAncestral, double guidance = 7.5, int batch = 1) => new()
    {
        Prompt = "a (red:1.2) circle",
        NegativePrompt = "blurry",
        Steps = 8,
        GuidanceScale = guidance,
        Width = 64,
        Height = 64,
        Seed = 42,
        BatchSize = batch,
        Scheduler = scheduler,
    };

    [Theory]
    [InlineData(SchedulerKind.EulerAncestral, 7.5)]
    [InlineData(SchedulerKind.Euler, 7.5)]
    [InlineData(SchedulerKind.Ddim, 7.5)]
    [InlineData(SchedulerKind.DpmPlusPlus2M, 7.5)]
    [InlineData(SchedulerKind.DpmPlusPlus2MKarras, 3)]
    [InlineData(SchedulerKind.Plms, 7.5)]
    [InlineData(SchedulerKind.EulerAncestral, 1)] // unguided: one row per image, no split
    public async Task Every_sampler_makes_the_host_loops_image(SchedulerKind scheduler, double guidance)
    {
        using var fixture = new FixtureModel();
        await AssertSameImages(fixture, Request(scheduler, guidance, batch: 2), (pipeline, request) => pipeline.GenerateAsync(request));
    }

    [Theory]
    [InlineData("unet_fp16.onnx")]
    [InlineData("unet_scalar.onnx")]
    [InlineData("unet_float.onnx")]
    public async Task Every_timestep_form_and_fp16_run_resident(string unet)
    {
        using var fixture = new FixtureModel(unet);
        await AssertSameImages(fixture, Request(SchedulerKind.DpmPlusPlus2M), (pipeline, request) => pipeline.GenerateAsync(request));
    }

    [Fact]
    public async Task Lcm_runs_resident_with_its_noise_between_steps()
    {
        using var fixture = new FixtureModel("unet_lcm.onnx", schedulerConfig: """{"beta_start":0.00085,"beta_end":0.012,"beta_schedule":"scaled_linear","original_inference_steps":50}""");
        await AssertSameImages(fixture, Request(SchedulerKind.Lcm, guidance: 8) with { Steps = 4 }, (pipeline, request) => pipeline.GenerateAsync(request));
    }

    [Fact]
    public async Task Image_to_image_starts_the_history_at_its_first_step()
    {
        using var fixture = new FixtureModel();
        var request = Request(SchedulerKind.Plms) with { InitImage = PipelineTests.Blocks(64, 64), Strength = 0.6 };
        await AssertSameImages(fixture, request, (pipeline, r) => pipeline.GenerateAsync(r));
    }

    [Theory]
    [InlineData("unet_int64.onnx")] // the known latents blended back on the device each step
    [InlineData("unet_inpaint9.onnx")] // mask and masked-image channels bound once
    public async Task Inpainting_runs_resident_and_keeps_unmasked_pixels(string unet)
    {
        using var fixture = new FixtureModel(unet);
        var source = PipelineTests.Blocks(64, 64);
        var mask = MaskTests.Square(64, 24, 24, 16);
        var request = Request(SchedulerKind.Ddim) with { InitImage = source, Strength = 0.9 };
        var options = new InpaintOptions { Mask = mask, MaskBlur = 2 };

        var images = await AssertSameImages(fixture, request, (pipeline, r) => pipeline.InpaintAsync(r, options));

        var feather = mask.Blur(2);
        for (var p = 0; p < feather.Values.Length; p++)
        {
            if (feather.Values[p] == 0)
            {
                Assert.Equal(source.Pixels.AsSpan(p * 3, 3).ToArray(), images[0].Pixels.AsSpan(p * 3, 3).ToArray());
            }
        }
    }

    [Fact]
    public async Task Previews_come_back_and_step_graphs_compile_once_per_structure()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load(residentLatents: true);
        var pipeline = new StableDiffusionPipeline(model) { PreviewEvery = 2 };
        var progress = new List<GenerationProgress>();

        await pipeline.GenerateAsync(Request(SchedulerKind.DpmPlusPlus2M), new PipelineTests.SynchronousProgress(progress.Add));
        var compiled = model.Graphs.Compiled;
        await pipeline.GenerateAsync(Request(SchedulerKind.DpmPlusPlus2M) with { Seed = 7 });

        Assert.Equal(Enumerable.Range(1, 8), progress.Select(p => p.Step));
        Assert.Equal(4, progress.Count(p => p.Preview is not null));
        Assert.NotEqual(progress[1].Preview!.Pixels, progress[7].Preview!.Pixels);
        // copy, prepare, and DPM++'s two step structures: first order (the last step's landing on the
        // denoised estimate reads the same operands) and second order.
        Assert.Equal(4, compiled);
        Assert.Equal(compiled, model.Graphs.Compiled);
    }

    [Fact]
    public async Task Cancellation_stops_the_resident_loop()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load(residentLatents: true);
        using var cts = new CancellationTokenSource();
        var steps = new List<int>();
        var progress = new PipelineTests.SynchronousProgress(p =>
        {
            steps.Add(p.Step);
            if (p.Step == 3)
            {
                cts.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FixtureModel.Pipeline(model).GenerateAsync(Request(), progress, cts.Token));
        Assert.Equal([1, 2, 3], steps);
    }

    [Fact]
    public async Task A_device_that_turned_the_resident_loop_off_runs_the_host_loop()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load(residentLatents: true);
        Assert.True(model.ExecutionDevice.ResidentLatents);

        model.ExecutionDevice.DisableResidentLatents("it failed here");
        await FixtureModel.Pipeline(model).GenerateAsync(Request());

        Assert.False(model.ExecutionDevice.ResidentLatents);
        Assert.Equal("it failed here", model.ExecutionDevice.ResidentLatentsProblem);
        Assert.Equal(0, model.Graphs.Compiled);
    }

    [Fact]
    public void The_graph_writer_makes_graphs_onnx_runtime_runs()
    {
        var g = new OnnxGraphWriter();
        var x = g.Input("x", TensorElementType.Float);
        var sum = g.Binary("Add", g.Binary("Mul", x, g.Input("k", TensorElementType.Float, scalar: true)), g.Input("y", TensorElementType.Float));
        g.Output(g.Node("Cast", [sum], attributes: new Dictionary<string, long> { ["to"] = (long)TensorElementType.Float16 }), "z", TensorElementType.Float16);
        using var session = new InferenceSession(g.ToBytes("test"));

        Assert.Empty(session.InputMetadata["k"].Dimensions);
        float[] xValues = [1, 2, 3, 4], kValue = [0.5f], yValues = [10, 20, 30, 40];
        using var xs = OrtValue.CreateTensorValueFromMemory(xValues, [2, 2]);
        using var k = OrtValue.CreateTensorValueFromMemory(kValue, []);
        using var ys = OrtValue.CreateTensorValueFromMemory(yValues, [2, 2]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["x", "k", "y"], [xs, k, ys], ["z"]);

        Assert.Equal([2L, 2], outputs[0].GetTensorTypeAndShape().Shape);
        Assert.Equal([10.5f, 21f, 31.5f, 42f], MemoryMarshal.Cast<Float16, Half>(outputs[0].GetTensorDataAsSpan<Float16>()).ToArray().Select(h => (float)h));
    }

    // Runs the request on the host loop and on the resident loop; the images agree to within rounding.
    private static async Task<IReadOnlyList<RgbImage>> AssertSameImages(
        FixtureModel fixture, GenerationRequest request, Func<StableDiffusionPipeline, GenerationRequest, Task<GenerationResult>> run)
    {
        using var host = fixture.Load(residentLatents: false);
        using var resident = fixture.Load(residentLatents: true);
        var expected = (await run(FixtureModel.Pipeline(host), request)).Images;
        var actual = (await run(FixtureModel.Pipeline(resident), request)).Images;

        Assert.True(resident.Graphs.Compiled >= 2, "the resident loop ran");
        Assert.Equal(0, host.Graphs.Compiled);
        Assert.Equal(expected.Count, actual.Count);
        for (var k = 0; k < expected.Count; k++)
        {
            var differences = expected[k].Pixels.Zip(actual[k].Pixels, (a, b) => Math.Abs(a - b)).ToArray();
            Assert.True(differences.Max() <= 1, $"image {k}: largest difference {differences.Max()}");
            Assert.True(differences.Count(d => d == 0) > 0.97 * differences.Length, $"image {k}: {differences.Count(d => d != 0)} values differ");
        }
        return actual;
    }
}
