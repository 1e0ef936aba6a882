using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Tests.Imaging;

namespace T2IStudio.Generation.Tests.Pipelines;

public sealed class InpaintingTests
{
    private static GenerationRequest Request(RgbImage source) => new()
    {
        Prompt = "a blue square",
        Steps = 4,
        GuidanceScale = 5,
        Width = source.Width,
        Height = source.Height,
        Seed = 7,
        Scheduler = SchedulerKind.Ddim,
        Strength = 1.0,
        InitImage = source,
    };

    [Theory]
    [InlineData("unet_int64.onnx", MaskedContent.Original)]
    [InlineData("unet_int64.onnx", MaskedContent.Fill)]
    [InlineData("unet_int64.onnx", MaskedContent.LatentNoise)]
    [InlineData("unet_inpaint9.onnx", MaskedContent.Original)]
    public async Task Pixels_outside_the_feathered_mask_keep_their_bytes_and_pixels_under_it_change(string unet, MaskedContent content)
    {
        using var fixture = new FixtureModel(unet);
        using var model = fixture.Load();
        var source = PipelineTests.Blocks(64, 64);
        var mask = MaskTests.Square(64, 24, 24, 16);
        var options = new InpaintOptions { Mask = mask, MaskBlur = 2, MaskedContent = content };

        var result = await FixtureModel.Pipeline(model).InpaintAsync(Request(source), options);

        var image = Assert.Single(result.Images);
        var feather = mask.Blur(2);
        for (var p = 0; p < feather.Values.Length; p++)
        {
            if (feather.Values[p] == 0)
            {
                Assert.Equal(source.Pixels.AsSpan(p * 3, 3).ToArray(), image.Pixels.AsSpan(p * 3, 3).ToArray());
            }
        }
        var centre = (32 * 64 + 32) * 3;
        Assert.NotEqual(source.Pixels.AsSpan(centre, 3).ToArray(), image.Pixels.AsSpan(centre, 3).ToArray());
    }

    [Fact]
    public async Task Only_masked_works_on_a_crop_and_pastes_it_back_into_the_full_image()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        var source = PipelineTests.Blocks(128, 96);
        var mask = MaskTests.Square(128, 8, 8, 8);
        var tall = new GrayMask(128, 96, mask.Values[..(128 * 96)]);
        var progress = new List<GenerationProgress>();
        var request = Request(source) with { Width = 64, Height = 64 };

        var result = await FixtureModel.Pipeline(model).InpaintAsync(
            request, new InpaintOptions { Mask = tall, MaskBlur = 1, OnlyMasked = true, Padding = 8 }, new PipelineTests.SynchronousProgress(progress.Add));

        var image = Assert.Single(result.Images);
        Assert.Equal((128, 96), (image.Width, image.Height));
        var feather = tall.Blur(1);
        var kept = 0;
        for (var p = 0; p < feather.Values.Length; p++)
        {
            if (feather.Values[p] == 0)
            {
                kept++;
                Assert.Equal(source.Pixels[p * 3], image.Pixels[p * 3]);
            }
        }
        Assert.True(kept > 128 * 96 - 200);
        Assert.NotEqual(source.Pixels[(12 * 128 + 12) * 3], image.Pixels[(12 * 128 + 12) * 3]);
        Assert.Equal(8, progress[0].Preview is null ? 8 : progress[0].Preview!.Width); // worked at 64×64 → 8×8 latents
    }

    [Fact]
    public async Task Bad_masks_are_refused_with_a_clear_message()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        var pipeline = FixtureModel.Pipeline(model);
        var source = PipelineTests.Blocks(64, 64);

        var wrongSize = await Assert.ThrowsAsync<ArgumentException>(() =>
            pipeline.InpaintAsync(Request(source), new InpaintOptions { Mask = MaskTests.Square(32, 0, 0, 8) }));
        Assert.Contains("The mask is 32×32; the image is 64×64.", wrongSize.Message, StringComparison.Ordinal);

        var empty = await Assert.ThrowsAsync<ArgumentException>(() =>
            pipeline.InpaintAsync(Request(source), new InpaintOptions { Mask = new GrayMask(64, 64, new byte[64 * 64]) }));
        Assert.Contains("The mask is empty", empty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inverting_the_mask_repaints_the_other_side()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        var source = PipelineTests.Blocks(64, 64);
        var mask = MaskTests.Square(64, 0, 0, 32);
        var result = await FixtureModel.Pipeline(model).InpaintAsync(Request(source), new InpaintOptions { Mask = mask, MaskBlur = 0, InvertMask = true });
        var image = result.Images[0];
        Assert.Equal(source.Pixels[(8 * 64 + 8) * 3], image.Pixels[(8 * 64 + 8) * 3]);       // inside the painted square: kept
        Assert.NotEqual(source.Pixels[(48 * 64 + 48) * 3], image.Pixels[(48 * 64 + 48) * 3]); // outside: repainted
    }
}
