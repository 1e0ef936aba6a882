using System.Text.Json;
using T2IStudio.Generation.Evaluation;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Tests.Imaging;

namespace T2IStudio.Generation.Tests.EmbeddedModel;

/// <summary>End-to-end on the committed embedded model, on the CPU, through the same code as any SD export.</summary>
[Collection(nameof(EmbeddedModelTests))]
public sealed class EmbeddedModelTests
{
    private static GenerationRequest Request(ulong seed = 1) => new()
    {
        Prompt = "a large green triangle left of a small red circle",
        Width = 64,
        Height = 64,
        Steps = 12,
        GuidanceScale = 4,
        Seed = seed,
        Scheduler = SchedulerKind.Ddim,
    };

    [Fact]
    public void The_catalog_lists_it_with_traits_read_from_its_files()
    {
        var info = new ModelCatalog([Path.GetDirectoryName(EmbeddedModel.Folder)!]).Find(EmbeddedModel.Id);
        Assert.NotNull(info);
        Assert.True(info.IsAvailable, info.Problem);
        Assert.Equal(48, info.Traits!.LatentChannels);
        Assert.Equal(4, info.Traits.VaeScaleFactor);
        Assert.Equal(1.0, info.Traits.VaeScalingFactor);
        Assert.Equal(PredictionType.Epsilon, info.Scheduler!.PredictionType);
        Assert.True(info.Traits.HasVaeEncoder);
        var size = Directory.EnumerateFiles(EmbeddedModel.Folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.True(size <= 20_000_000, $"the embedded model is {size:N0} bytes");
    }

    [Fact]
    public void Onnx_runtime_reproduces_the_pytorch_outputs_recorded_at_export()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(EmbeddedModel.ReferencePath));
        var root = json.RootElement;
        var model = EmbeddedModel.Model;
        var ids = root.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var hidden = model.TextEncoder.Run([ComponentInput.OfIntegers("input_ids", ids, 1, 77)]).Values;
        var firstToken = root.GetProperty("hidden_first_token").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        for (var k = 0; k < firstToken.Length; k++)
        {
            Assert.InRange(Math.Abs(hidden[firstToken.Length + k] - firstToken[k]), 0, 1e-4);
        }
        var sample = root.GetProperty("sample").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var expected = root.GetProperty("out_sample").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var output = model.Unet.Run([
            ComponentInput.OfFloats("sample", sample, 1, 48, 16, 16),
            ComponentInput.OfFloats("timestep", [root.GetProperty("timestep").GetSingle()], 1),
            ComponentInput.OfFloats("encoder_hidden_states", hidden, 1, 77, hidden.Length / 77),
        ]).Values;
        var worst = expected.Zip(output).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(worst < 1e-3, $"largest difference from PyTorch: {worst}");
    }

    [Fact]
    public async Task Same_seed_gives_identical_png_bytes_and_other_seeds_differ()
    {
        var pipeline = new StableDiffusionPipeline(EmbeddedModel.Model) { PreviewEvery = 0 };
        var stored = GenerationMetadata.Describe(Request(), EmbeddedModel.Id, 0);
        var first = GenerationMetadata.EncodePng((await pipeline.GenerateAsync(Request())).Images[0], stored, "x");
        var again = GenerationMetadata.EncodePng((await pipeline.GenerateAsync(Request())).Images[0], stored, "x");
        var other = (await pipeline.GenerateAsync(Request(2))).Images[0];
        Assert.Equal(first, again);
        using var stream = new MemoryStream(first);
        Assert.NotEqual(PngFiles.Decode(stream).Pixels, other.Pixels);
    }

    [Fact]
    public async Task Image_to_image_at_strength_zero_returns_the_input()
    {
        var source = RgbImage.Filled(64, 64, 255, 255, 255);
        for (var p = 0; p < 64 * 20; p++)
        {
            (source.Pixels[p * 3], source.Pixels[p * 3 + 1]) = (200, 30); // a red band at the top
        }
        var result = await new StableDiffusionPipeline(EmbeddedModel.Model).GenerateAsync(Request() with { InitImage = source, Strength = 0 });
        Assert.Equal(source.Pixels, result.Images[0].Pixels);
    }

    [Fact]
    public async Task Inpainting_keeps_every_pixel_outside_the_feathered_mask()
    {
        var source = (await new StableDiffusionPipeline(EmbeddedModel.Model).GenerateAsync(Request(5))).Images[0];
        var mask = MaskTests.Square(64, 32, 16, 24);
        var result = await new StableDiffusionPipeline(EmbeddedModel.Model).InpaintAsync(
            Request(6) with { Prompt = "a large blue square", InitImage = source, Strength = 1 },
            new InpaintOptions { Mask = mask, MaskBlur = 2 });
        var feather = mask.Blur(2);
        var changed = 0;
        for (var p = 0; p < 64 * 64; p++)
        {
            var same = source.Pixels.AsSpan(p * 3, 3).SequenceEqual(result.Images[0].Pixels.AsSpan(p * 3, 3));
            if (feather.Values[p] == 0)
            {
                Assert.True(same, $"pixel {p} outside the mask changed");
            }
            else if (!same)
            {
                changed++;
            }
        }
        Assert.True(changed > 100, $"only {changed} masked pixels changed");
    }

    [Fact]
    public async Task Cancellation_stops_a_run_between_steps()
    {
        using var cancel = new CancellationTokenSource();
        var steps = 0;
        var progress = new Pipelines.PipelineTests.SynchronousProgress(p =>
        {
            steps = p.Step;
            if (p.Step == 3)
            {
                cancel.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new StableDiffusionPipeline(EmbeddedModel.Model).GenerateAsync(Request() with { Steps = 30 }, progress, cancel.Token));
        Assert.Equal(3, steps);
    }

    [Fact]
    public async Task The_issue_prompt_gives_that_picture_at_the_default_settings()
    {
        // The embedded-model issue's "done when", judged by the shape analyser over eight fixed seeds.
        var defaults = EmbeddedModel.Model.Traits.Defaults;
        var pipeline = new StableDiffusionPipeline(EmbeddedModel.Model) { PreviewEvery = 0 };
        var caption = ShapeCaption.TryParse(Request().Prompt)!;
        var correct = 0;
        for (ulong seed = 1; seed <= 8; seed++)
        {
            var request = Request(seed) with { Steps = defaults.Steps, GuidanceScale = defaults.Guidance, Scheduler = defaults.Scheduler };
            var image = (await pipeline.GenerateAsync(request)).Images[0];
            correct += ShapeAnalyzer.Judge(image, caption).FullyCorrect ? 1 : 0;
        }
        Assert.True(correct >= 6, $"only {correct} of 8 seeds drew the prompt");
    }

    [Fact]
    public async Task The_resident_loop_draws_the_host_loops_picture()
    {
        // What CUDA runs by default (latents kept on the device, steps as graphs), here on the CPU provider.
        using var resident = LoadedModel.Load(ModelCatalog.Inspect(EmbeddedModel.Folder), new ExecutionDevice(DevicePreference.Cpu, residentLatents: true));
        var request = Request(3) with { Scheduler = SchedulerKind.DpmPlusPlus2MKarras };
        var expected = (await new StableDiffusionPipeline(EmbeddedModel.Model).GenerateAsync(request)).Images[0];
        var actual = (await new StableDiffusionPipeline(resident).GenerateAsync(request)).Images[0];

        var differences = expected.Pixels.Zip(actual.Pixels, (a, b) => Math.Abs(a - b)).ToArray();
        Assert.True(differences.Max() <= 2, $"largest difference {differences.Max()}");
        Assert.True(resident.Graphs.Compiled >= 3);
        var caption = ShapeCaption.TryParse(request.Prompt)!;
        var (before, after) = (ShapeAnalyzer.Judge(expected, caption), ShapeAnalyzer.Judge(actual, caption));
        Assert.Equal((before.Facts, before.Correct), (after.Facts, after.Correct));
    }

    [Fact]
    public async Task A_named_emoji_prompt_steers_the_picture()
    {
        var set = EvaluationSet.Load(Path.Combine(EmbeddedModel.Folder, "evaluation.json"));
        Assert.Equal(32, set.Named.Count);
        var two = set with { Named = [.. set.Named.Where(p => p.Prompt is "grinning face" or "red apple")] };
        var images = await ShapeEvaluation.GenerateNamedAsync(EmbeddedModel.Model, two);

        // Mean colour of the drawn (non-white) pixels: the face is yellow, the apple red.
        static (double R, double G, double B) Ink(RgbImage image)
        {
            double r = 0, g = 0, b = 0;
            var n = 0;
            for (var i = 0; i < image.Pixels.Length; i += 3)
            {
                if (image.Pixels[i] + image.Pixels[i + 1] + image.Pixels[i + 2] < 3 * 230)
                {
                    (r, g, b, n) = (r + image.Pixels[i], g + image.Pixels[i + 1], b + image.Pixels[i + 2], n + 1);
                }
            }
            return (r / n, g / n, b / n);
        }
        var face = Ink(images[0]);
        var apple = Ink(images[1]);
        Assert.True(face.G > face.B + 60 && face.R > face.B + 60, $"grinning face ink {face}");
        Assert.True(apple.R > apple.G + 60 && apple.R > apple.B + 60, $"red apple ink {apple}");
        Assert.True(face.G > apple.G + 40, $"the face ({face}) should be yellower than the apple ({apple})");
    }
}
