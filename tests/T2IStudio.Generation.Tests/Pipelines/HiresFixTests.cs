using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Upscaling;

namespace T2IStudio.Generation.Tests.Pipelines;

public sealed class HiresFixTests
{
    private static GenerationRequest Request(int batch = 1) => new()
    {
        Prompt = "a red circle",
        NegativePrompt = "blurry",
        Steps = 4,
        GuidanceScale = 7.5,
        Width = 64,
        Height = 64,
        Seed = 42,
        BatchSize = batch,
        Scheduler = SchedulerKind.Ddim,
    };

    private static readonly HiresOptions ByFour = new() { Scale = 4, Strength = 0.5, Upscaler = FixtureUpscaler.Id };

    [Fact]
    public async Task The_first_pass_is_a_plain_run_and_the_second_an_image_to_image_of_its_upscale()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        using var upscaler = FixtureUpscaler.Load(fixture.Root);
        var plain = await FixtureModel.Pipeline(model).GenerateAsync(Request());
        // The nearest ×4 fixture: every first-pass pixel becomes a 4 × 4 block, exactly.
        var enlarged = FixtureUpscaler.Nearest(plain.Images[0], 4);
        var refined = await FixtureModel.Pipeline(model).GenerateAsync(ImageToImage(enlarged, seed: 42, strength: 0.5));

        var result = await new HiresFix(model, upscaler).GenerateAsync(Request(), ByFour);

        var image = Assert.Single(result.Images);
        Assert.Equal((256, 256), (image.Width, image.Height));
        AssertSameImage(refined.Images[0], image);
        Assert.Equal([42UL], result.Seeds);
        // The second pass did change the enlarged image (strength 0.5 on the fixture UNet).
        Assert.NotEqual(enlarged.Pixels, image.Pixels);
    }

    [Fact]
    public async Task Without_an_upscaler_the_first_pass_is_enlarged_with_Lanczos()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        var hires = new HiresOptions { Scale = 2, Strength = 0.5 };
        var plain = await FixtureModel.Pipeline(model).GenerateAsync(Request());
        var refined = await FixtureModel.Pipeline(model).GenerateAsync(ImageToImage(ImageOps.Resize(plain.Images[0], 128, 128), seed: 42, strength: 0.5));

        var result = await new HiresFix(model, upscaler: null).GenerateAsync(Request(), hires);

        AssertSameImage(refined.Images[0], Assert.Single(result.Images));
        Assert.Equal(128, result.Images[0].Width);
    }

    [Fact]
    public async Task Each_image_of_a_batch_is_refined_with_its_own_seed()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        using var upscaler = FixtureUpscaler.Load(fixture.Root);
        var plain = await FixtureModel.Pipeline(model).GenerateAsync(Request(batch: 2));

        var result = await new HiresFix(model, upscaler).GenerateAsync(Request(batch: 2), ByFour);

        Assert.Equal([42UL, 43UL], result.Seeds);
        for (var k = 0; k < 2; k++)
        {
            var enlarged = FixtureUpscaler.Nearest(plain.Images[k], 4);
            var expected = await FixtureModel.Pipeline(model).GenerateAsync(ImageToImage(enlarged, seed: 42 + (ulong)k, strength: 0.5));
            AssertSameImage(expected.Images[0], result.Images[k]);
            // The other image's seed on this enlargement paints a visibly different picture: the seed is really per image.
            var otherSeed = await FixtureModel.Pipeline(model).GenerateAsync(ImageToImage(enlarged, seed: 43 - (ulong)k, strength: 0.5));
            Assert.True(MaxDifference(otherSeed.Images[0], result.Images[k]) > Tolerance, "the second pass used the other image's seed");
        }
    }

    [Fact]
    public void The_second_pass_request_is_the_prompt_at_the_enlarged_size_with_the_image_seed_and_the_strength()
    {
        var enlarged = new RgbImage(256, 192, new byte[256 * 192 * 3]);

        var second = HiresFix.SecondPass(Request(batch: 3), new HiresOptions { Scale = 4, Strength = 0.3 }, 44, enlarged);

        Assert.Equal(ImageToImage(enlarged, seed: 44, strength: 0.3), second);
    }

    // The explicit image-to-image run a hires fix must make: written out here, not built with HiresFix.SecondPass.
    private static GenerationRequest ImageToImage(RgbImage enlarged, ulong seed, double strength) => new()
    {
        Prompt = "a red circle",
        NegativePrompt = "blurry",
        Steps = 4,
        GuidanceScale = 7.5,
        Width = enlarged.Width,
        Height = enlarged.Height,
        Seed = seed,
        BatchSize = 1,
        Scheduler = SchedulerKind.Ddim,
        InitImage = enlarged,
        Strength = strength,
    };

    // ONNX Runtime's CPU kernels are not bit-reproducible when the machine is busy (how many pool threads join a
    // reduction changes float rounding), so two runs of the same request may differ by a level or two in a few
    // pixels; a wrong seed, strength or size changes the picture far beyond that.
    private const int Tolerance = 4;

    private static void AssertSameImage(RgbImage expected, RgbImage actual)
    {
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        var differing = expected.Pixels.Zip(actual.Pixels).Count(p => p.First != p.Second);
        Assert.True(MaxDifference(expected, actual) <= Tolerance && differing <= expected.Pixels.Length / 100,
            $"the images differ by up to {MaxDifference(expected, actual)} levels in {differing} of {expected.Pixels.Length} bytes");
    }

    private static int MaxDifference(RgbImage a, RgbImage b) => a.Pixels.Zip(b.Pixels).Max(p => Math.Abs(p.First - p.Second));

    [Fact]
    public async Task Progress_counts_first_pass_upscale_and_second_pass_in_one_total()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        using var upscaler = FixtureUpscaler.Load(fixture.Root);
        var reports = new List<GenerationProgress>();

        await new HiresFix(model, upscaler) { PreviewEvery = 0 }.GenerateAsync(Request(batch: 2), ByFour, new PipelineTests.SynchronousProgress(reports.Add));

        // DDIM, 4 steps: 4 first-pass steps, then per image one upscale and 2 steps at strength 0.5.
        var total = HiresFix.TotalSteps(fixture.Info, Request(batch: 2), ByFour);
        Assert.Equal(4 + 2 * (1 + 2), total);
        Assert.All(reports, r => Assert.Equal(total, r.TotalSteps));
        Assert.Equal(Enumerable.Range(1, total), reports.Select(r => r.Step));
    }

    [Fact]
    public async Task Cancelling_in_the_second_pass_stops_the_job()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        using var upscaler = FixtureUpscaler.Load(fixture.Root);
        using var cancel = new CancellationTokenSource();
        var steps = new List<int>();
        var progress = new PipelineTests.SynchronousProgress(p =>
        {
            steps.Add(p.Step);
            if (p.Step == 6)
            {
                cancel.Cancel(); // the upscale was step 5: this is the second pass's first step
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new HiresFix(model, upscaler) { PreviewEvery = 0 }.GenerateAsync(Request() with { Steps = 10 }, ByFour, progress, cancel.Token));

        Assert.Equal([1, 2, 3, 4, 5, 6], steps);
    }

    [Fact]
    public async Task Cancelling_before_the_upscale_stops_before_it()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        using var upscaler = FixtureUpscaler.Load(fixture.Root);
        using var cancel = new CancellationTokenSource();
        var steps = new List<int>();
        var progress = new PipelineTests.SynchronousProgress(p =>
        {
            steps.Add(p.Step);
            if (p.Step == 4)
            {
                cancel.Cancel(); // the first pass's last step
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new HiresFix(model, upscaler) { PreviewEvery = 0 }.GenerateAsync(Request(), ByFour, progress, cancel.Token));

        Assert.Equal([1, 2, 3, 4], steps);
    }

    [Theory]
    [InlineData(1.0, 0.5, null, "Upscale by must be more than 1 and at most 4")]
    [InlineData(4.5, 0.5, null, "Upscale by must be more than 1 and at most 4")]
    [InlineData(2.0, 1.5, null, "Denoising strength must be between 0 and 1")]
    [InlineData(2.0, double.NaN, null, "Denoising strength must be between 0 and 1")]
    [InlineData(2.0, 0.5, "missing", "there is no upscaler 'missing'")]
    public void Bad_options_are_refused_with_a_message(double scale, double strength, string? upscaler, string message)
    {
        using var fixture = new FixtureModel();
        var errors = HiresFix.Validate(fixture.Info, Request(), new HiresOptions { Scale = scale, Strength = strength, Upscaler = upscaler }, _ => null);
        Assert.Contains(errors, e => e.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_final_size_over_the_limit_is_refused_with_both_sizes()
    {
        using var fixture = new FixtureModel();
        var errors = HiresFix.Validate(fixture.Info, Request() with { Width = 1024, Height = 512 }, new HiresOptions { Scale = 4 }, _ => null);
        var error = Assert.Single(errors);
        Assert.Equal($"Hires fix: 1024×512 upscaled by 4 is 4096×2048; the largest side is {GenerationLimits.MaxSide}.", error);
    }

    [Fact]
    public async Task An_unavailable_upscaler_is_refused_before_any_work()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        var broken = new UpscalerInfo("broken", fixture.Root, false, "the graph must take one [1, 3, H, W] image and give one", 0, "broken");
        var errors = HiresFix.Validate(fixture.Info, Request(), new HiresOptions { Upscaler = "broken" }, id => id == "broken" ? broken : null);
        Assert.Equal(["Hires fix: upscaler 'broken' is unavailable: the graph must take one [1, 3, H, W] image and give one"], errors);
        await Assert.ThrowsAsync<ArgumentException>(() => new HiresFix(model, null).GenerateAsync(Request(), new HiresOptions { Upscaler = "broken" }));
    }
}
