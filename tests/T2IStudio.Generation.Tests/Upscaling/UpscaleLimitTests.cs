using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Tests.Pipelines;
using T2IStudio.Generation.Upscaling;
using static T2IStudio.Generation.Tests.Upscaling.UpscalerFixtures;

namespace T2IStudio.Generation.Tests.Upscaling;

/// <summary>Every pass of an upscale stays within the image limit, whatever the final size asks for.</summary>
public sealed class UpscaleLimitTests
{
    private static readonly UpscalerInfo X4 = new("x4", Folder("x4"), true, null, 4, "x4");
    private static readonly UpscalerInfo X2 = new("x2", Folder("x2"), true, null, 2, "x2");

    [Fact]
    public void Times_two_of_a_2048_image_on_a_times_four_network_is_refused_for_its_8192_pass()
    {
        var problem = LoadedUpscaler.SizeProblem(X4, 2048, 2048, 2);

        Assert.NotNull(problem);
        Assert.Contains("makes a 8192×8192 image before it is resized to 4096×4096", problem);
        Assert.Contains("the limit is 16 megapixels", problem);
    }

    [Theory]
    [InlineData(2048, 2048, 2.0)] // one ×2 pass: 4096², exactly 16 MP
    [InlineData(1024, 1024, 4.0)] // two ×2 passes: 2048², then 4096²
    [InlineData(1024, 1024, 1.5)] // one ×2 pass: 2048², resized to 1536²
    public void Sizes_whose_every_pass_fits_are_allowed(int width, int height, double scale)
    {
        Assert.Null(LoadedUpscaler.SizeProblem(X2, width, height, scale));
    }

    [Fact]
    public void The_pass_that_would_exceed_the_limit_is_named()
    {
        // ×3 on a ×2 network runs it twice: 3000² then 6000² (36 MP), resized to 4500²... which is itself over.
        Assert.Contains("would be 4500×4500", LoadedUpscaler.SizeProblem(X2, 1500, 1500, 3));
        // ×2.5 of 1600²: the final 4000² fits, the second pass's 6400² does not.
        var problem = LoadedUpscaler.SizeProblem(X2, 1600, 1600, 2.5);
        Assert.Contains("makes a 6400×6400 image (pass 2 of 2) before it is resized to 4000×4000", problem);
    }

    [Theory]
    [InlineData(0, 10, 2.0)]
    [InlineData(10, 10, double.NaN)]
    [InlineData(10, 10, -1.0)]
    public void Nonsense_sizes_and_scales_are_refused_with_a_message(int width, int height, double scale)
    {
        Assert.False(string.IsNullOrWhiteSpace(LoadedUpscaler.SizeProblem(X4, width, height, scale)));
    }

    [Fact]
    public void Upscale_refuses_an_oversized_pass_before_running_any_tile()
    {
        using var upscaler = Load("x4", tileSize: 64);
        var progress = new Recorded<UpscaleProgress>();
        var image = new RgbImage(2049, 2048, new byte[2049 * 2048 * 3]);

        var error = Assert.Throws<ArgumentException>(() => upscaler.Upscale(image, 1.5, progress));
        Assert.Contains("makes a 8196×8192 image", error.Message);
        Assert.Empty(progress.Reports);
    }

    [Fact]
    public void A_hires_fix_whose_upscaler_pass_exceeds_the_limit_is_refused_with_the_reason()
    {
        using var fixture = new FixtureModel();
        // ×1.01 of 2024²: the target (2040²) is within the largest side, but a ×4 network makes 8096² first.
        var request = Request(2024, 2024);
        var errors = HiresFix.Validate(fixture.Info, request, new HiresOptions { Scale = 1.01, Upscaler = "x4" }, id => id == "x4" ? X4 : null);

        Assert.Contains(errors, e => e.StartsWith("Hires fix: Upscaler 'x4' enlarges ×4 per run", StringComparison.Ordinal) && e.Contains("8096×8096", StringComparison.Ordinal));
    }

    [Fact]
    public void A_hires_fix_within_the_limit_or_with_lanczos_has_no_size_error()
    {
        using var fixture = new FixtureModel();
        var withUpscaler = HiresFix.Validate(fixture.Info, Request(512, 512), new HiresOptions { Scale = 2, Upscaler = "x4" }, id => id == "x4" ? X4 : null);
        var lanczos = HiresFix.Validate(fixture.Info, Request(2024, 2024), new HiresOptions { Scale = 1.01 }, _ => null);

        Assert.DoesNotContain(withUpscaler, e => e.Contains("megapixels", StringComparison.Ordinal));
        Assert.DoesNotContain(lanczos, e => e.Contains("megapixels", StringComparison.Ordinal));
    }

    private static GenerationRequest Request(int width, int height) => new()
    {
        Prompt = "a red circle",
        Steps = 4,
        Width = width,
        Height = height,
        Seed = 42,
    };
}
