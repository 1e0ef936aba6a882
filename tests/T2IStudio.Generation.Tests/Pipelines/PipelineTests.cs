using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Tests.Pipelines;

public sealed class PipelineTests
{
    private static GenerationRequest Request(string prompt = "a red circle", ulong seed = 42) => new()
    {
        Prompt = prompt,
        NegativePrompt = "blurry",
        Steps = 4,
        GuidanceScale = 7.5,
        Width = 64,
        Height = 64,
        Seed = seed,
        Scheduler = SchedulerKind.Ddim,
    };

    [Theory]
    [InlineData("text_encoder_int64.onnx")]
    [InlineData("text_encoder_int32.onnx")]
    public void Text_encoder_output_is_read_back_whatever_the_id_type(string textEncoder)
    {
        using var fixture = new FixtureModel(textEncoder: textEncoder);
        using var model = fixture.Load();
        var hidden = FixtureModel.Pipeline(model).EncodeText("a photo of a cat");
        Assert.Equal(FixtureMath.Hidden("a photo of a cat"), hidden);
    }

    [Fact]
    public void Weighted_prompts_scale_their_tokens_and_keep_the_mean()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        var plain = FixtureModel.Pipeline(model).EncodeText("a cat");
        var weighted = FixtureModel.Pipeline(model).EncodeText("a (cat:1.5)");
        Assert.Equal(FixtureMath.Mean(plain), FixtureMath.Mean(weighted), 6);
        // "cat" (position 2) grew relative to "a" (position 1).
        Assert.True(weighted[2 * 8] / weighted[1 * 8] > plain[2 * 8] / plain[1 * 8] * 1.49);
    }

    [Fact]
    public void Guidance_combines_uncond_and_cond_as_u_plus_s_times_c_minus_u_in_one_batch()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        var pipeline = FixtureModel.Pipeline(model);
        var cond = pipeline.EncodeText("a cat");
        var uncond = pipeline.EncodeText("");
        float[] latents = [.. Enumerable.Range(0, 4 * 8 * 8).Select(i => i / 256f)];
        using var run = new Microsoft.ML.OnnxRuntime.RunOptions();

        using var unet = new StableDiffusionPipeline.UnetRun(model, pipeline.Condition(cond, uncond, 1, 3.0), new StableDiffusionPipeline.LatentBatch(1, 8, 8));

        var guided = StableDiffusionPipeline.PredictNoise(unet, latents, 1.0, 501, null, run, CancellationToken.None);

        double mu = FixtureMath.Mean(uncond), mc = FixtureMath.Mean(cond);
        for (var i = 0; i < latents.Length; i++)
        {
            var u = 0.5 * latents[i] + mu + 1e-4 * 501;
            var c = 0.5 * latents[i] + mc + 1e-4 * 501;
            Assert.InRange(Math.Abs(u + 3.0 * (c - u) - guided[i]), 0, 1e-6); // float32 inside the graph
        }
    }

    [Fact]
    public async Task Text_to_image_runs_the_whole_loop_exactly()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        var result = await FixtureModel.Pipeline(model).GenerateAsync(Request());

        var expected = FixtureMath.TextToImage("a red circle", "blurry", 7.5, 4, 42, 64);
        var image = Assert.Single(result.Images);
        Assert.Equal(64, image.Width);
        Assert.All(image.Pixels.Zip(expected), pair => Assert.InRange(Math.Abs(pair.First - pair.Second), 0, 1));
        Assert.Equal([42UL], result.Seeds);
        Assert.Equal("cpu", result.Device);
    }

    [Theory]
    [InlineData("unet_float.onnx")]
    [InlineData("unet_scalar.onnx")]
    [InlineData("unet_fp16.onnx")]
    public async Task Every_timestep_form_and_fp16_give_the_same_image(string unet)
    {
        using var reference = new FixtureModel();
        using var referenceModel = reference.Load();
        var expected = (await FixtureModel.Pipeline(referenceModel).GenerateAsync(Request())).Images[0].Pixels;

        using var fixture = new FixtureModel(unet);
        using var model = fixture.Load();
        var actual = (await FixtureModel.Pipeline(model).GenerateAsync(Request())).Images[0].Pixels;
        var tolerance = unet.Contains("fp16", StringComparison.Ordinal) ? 3 : 1;
        Assert.All(actual.Zip(expected), pair => Assert.InRange(Math.Abs(pair.First - pair.Second), 0, tolerance));
    }

    [Fact]
    public async Task Same_seed_gives_identical_bytes_and_other_seeds_differ()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        var pipeline = FixtureModel.Pipeline(model);
        var request = Request() with { Scheduler = SchedulerKind.EulerAncestral };
        var first = (await pipeline.GenerateAsync(request)).Images[0].Pixels;
        var again = (await pipeline.GenerateAsync(request)).Images[0].Pixels;
        var other = (await pipeline.GenerateAsync(request with { Seed = 43 })).Images[0].Pixels;
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task A_batch_gives_each_image_its_own_seed()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        var pipeline = FixtureModel.Pipeline(model);
        var batch = await pipeline.GenerateAsync(Request() with { BatchSize = 2 });
        var second = await pipeline.GenerateAsync(Request(seed: 43));
        Assert.Equal([42UL, 43UL], batch.Seeds);
        Assert.Equal(second.Images[0].Pixels, batch.Images[1].Pixels);
        Assert.NotEqual(batch.Images[0].Pixels, batch.Images[1].Pixels);
    }

    [Theory]
    [InlineData("vae_encoder.onnx")]
    [InlineData("vae_encoder_parameters.onnx")]
    public async Task Image_to_image_at_strength_zero_returns_the_input(string encoder)
    {
        using var fixture = new FixtureModel(vaeEncoder: encoder);
        using var model = fixture.Load();
        var source = Blocks(64, 64);
        var result = await FixtureModel.Pipeline(model).GenerateAsync(Request() with { InitImage = source, Strength = 0 });
        Assert.Equal(source.Pixels, result.Images[0].Pixels);
    }

    [Fact]
    public async Task Image_to_image_runs_the_strength_share_of_the_steps()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        var steps = new List<GenerationProgress>();
        var result = await FixtureModel.Pipeline(model).GenerateAsync(
            Request() with { InitImage = Blocks(64, 64), Strength = 0.5, Steps = 10 },
            new SynchronousProgress(steps.Add));
        Assert.Equal(5, steps.Count);
        Assert.All(steps, p => Assert.Equal(5, p.TotalSteps));
        Assert.Equal(Enumerable.Range(1, 5), steps.Select(p => p.Step));
        Assert.NotEqual(Blocks(64, 64).Pixels, result.Images[0].Pixels);
    }

    [Fact]
    public async Task Progress_reports_every_step_with_previews_every_few_steps()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        var pipeline = new StableDiffusionPipeline(model) { PreviewEvery = 2 };
        var steps = new List<GenerationProgress>();
        await pipeline.GenerateAsync(Request() with { Steps = 5 }, new SynchronousProgress(steps.Add));
        Assert.Equal([1, 2, 3, 4, 5], steps.Select(p => p.Step));
        Assert.Equal([false, true, false, true, true], steps.Select(p => p.Preview is not null));
        Assert.Equal(8, steps[1].Preview!.Width);
        Assert.True(steps.Zip(steps.Skip(1)).All(p => p.Second.Elapsed >= p.First.Elapsed));
    }

    [Fact]
    public async Task Cancellation_stops_before_the_next_unet_call()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        using var cancel = new CancellationTokenSource();
        var steps = new List<int>();
        var progress = new SynchronousProgress(p =>
        {
            steps.Add(p.Step);
            if (p.Step == 2)
            {
                cancel.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            FixtureModel.Pipeline(model).GenerateAsync(Request() with { Steps = 10 }, progress, cancel.Token));
        Assert.Equal([1, 2], steps);
    }

    [Fact]
    public async Task Lcm_models_feed_the_guidance_embedding_and_need_the_lcm_scheduler()
    {
        using var fixture = new FixtureModel("unet_lcm.onnx", schedulerConfig: """{"beta_start":0.00085,"beta_end":0.012,"beta_schedule":"scaled_linear","original_inference_steps":50}""");
        using var model = fixture.Load();
        var pipeline = FixtureModel.Pipeline(model);
        var request = Request() with { Scheduler = SchedulerKind.Lcm, GuidanceScale = 8 };
        var eight = (await pipeline.GenerateAsync(request)).Images[0].Pixels;
        var two = (await pipeline.GenerateAsync(request with { GuidanceScale = 2 })).Images[0].Pixels;
        Assert.NotEqual(eight, two);
        Assert.Contains("LCM models need the LCM scheduler.", pipeline.Validate(request with { Scheduler = SchedulerKind.Euler }));

        var embedding = StableDiffusionPipeline.LcmGuidanceEmbedding(8, 256);
        Assert.Equal(Math.Sin(7000), embedding[0], 6);
        Assert.Equal(Math.Cos(7000), embedding[128], 6);
    }

    [Fact]
    public async Task Invalid_requests_are_refused_with_every_reason()
    {
        using var fixture = new FixtureModel(vaeEncoder: null);
        using var model = fixture.Load();
        var errors = FixtureModel.Pipeline(model).Validate(Request() with
        {
            Width = 60,
            Steps = 0,
            GuidanceScale = 31,
            BatchSize = 9,
            InitImage = Blocks(64, 64),
        });
        Assert.Contains(errors, e => e.StartsWith("Width must be a multiple of 8", StringComparison.Ordinal));
        Assert.Contains("Steps must be between 1 and 150.", errors);
        Assert.Contains("Guidance must be between 0 and 30.", errors);
        Assert.Contains("Batch size must be between 1 and 8.", errors);
        Assert.Contains(errors, e => e.Contains("no VAE encoder", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("the request is 60×64", StringComparison.Ordinal));
        await Assert.ThrowsAsync<ArgumentException>(() => FixtureModel.Pipeline(model).GenerateAsync(Request() with { Steps = 0 }));
    }

    /// <summary>8×8 blocks of one colour each: the fixture VAE round-trips them exactly.</summary>
    internal static RgbImage Blocks(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = (y * width + x) * 3;
                pixels[i] = (byte)(x / 8 * 30);
                pixels[i + 1] = (byte)(y / 8 * 30);
                pixels[i + 2] = 200;
            }
        }
        return new RgbImage(width, height, pixels);
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, which reorders).</summary>
    internal sealed class SynchronousProgress(Action<GenerationProgress> report) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value) => report(value);
    }
}
