using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Tests.Imaging;

public sealed class HiresMetadataTests
{
    private static readonly GenerationRequest Request = new()
    {
        Prompt = "a red circle",
        NegativePrompt = "blurry",
        Steps = 20,
        GuidanceScale = 7,
        Width = 64,
        Height = 64,
        Seed = 1234,
        Scheduler = SchedulerKind.EulerAncestral,
    };

    private static readonly StoredRequest Hired = GenerationMetadata.Describe(Request, "tiny-shapes", 0)
        with { Hires = new HiresOptions { Scale = 4, Strength = 0.4, Upscaler = "t2istudio-tiny-x4" } };

    [Fact]
    public void Hires_fix_is_written_with_A1111s_keys_after_the_first_pass_size()
    {
        Assert.Equal(
            "a red circle\nNegative prompt: blurry\n" +
            "Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 1234, Size: 64x64, Model hash: 0123456789, Model: tiny-shapes, " +
            "Denoising strength: 0.4, Hires upscale: 4, Hires upscaler: t2istudio-tiny-x4",
            GenerationMetadata.ParametersText(Hired, "0123456789"));
    }

    [Fact]
    public void A_hires_png_reads_back_the_same_record_and_the_A1111_text_parses_back_to_the_same_hires_fix()
    {
        var png = GenerationMetadata.EncodePng(new RgbImage(8, 8, new byte[8 * 8 * 3]), Hired, "0123456789");
        using var stream = new MemoryStream(png);
        var chunks = PngFiles.ReadText(stream);

        Assert.Equal(Hired, GenerationMetadata.ReadStoredRequest(chunks.RequestJson));
        var parsed = GenerationParameters.Parse(chunks.Parameters!);
        Assert.Equal(Hired.Hires, GenerationMetadata.ReadHires(parsed));
        Assert.Equal("64x64", parsed["Size"]);
    }

    [Fact]
    public void A_plain_resize_is_written_Lanczos_and_read_back_as_no_upscaler()
    {
        var lanczos = Hired with { Hires = new HiresOptions { Scale = 2, Strength = 0.5 } };
        var text = GenerationMetadata.ParametersText(lanczos, null);
        Assert.EndsWith("Model: tiny-shapes, Denoising strength: 0.5, Hires upscale: 2, Hires upscaler: Lanczos", text, StringComparison.Ordinal);
        Assert.Equal(lanczos.Hires, GenerationMetadata.ReadHires(GenerationParameters.Parse(text)));
    }

    [Fact]
    public void A1111s_own_hires_text_is_read()
    {
        var a1111 = GenerationParameters.Parse("cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Model: x, Denoising strength: 0.7, Hires upscale: 2, Hires upscaler: R-ESRGAN 4x+, Version: v1.10.0");
        Assert.Equal(new HiresOptions { Scale = 2, Strength = 0.7, Upscaler = "R-ESRGAN 4x+" }, GenerationMetadata.ReadHires(a1111));
        Assert.Null(GenerationMetadata.ReadHires(GenerationParameters.Parse("cat\nSteps: 20, Seed: 1, Denoising strength: 0.7")));
    }

    [Fact]
    public void An_upscale_keeps_the_source_record_and_appends_A1111s_extras_keys()
    {
        var upscaled = GenerationMetadata.Describe(Request, "tiny-shapes", 0)
            with { Upscale = new UpscaleRecord { Upscaler = "t2istudio-tiny-x4", Scale = 4, SourceModelHash = "0123456789" } };
        var png = GenerationMetadata.EncodePng(new RgbImage(8, 8, new byte[8 * 8 * 3]), upscaled, "0123456789");
        using var stream = new MemoryStream(png);
        var chunks = PngFiles.ReadText(stream);

        Assert.Equal(upscaled, GenerationMetadata.ReadStoredRequest(chunks.RequestJson));
        var parsed = GenerationParameters.Parse(chunks.Parameters!);
        Assert.Equal("a red circle", parsed.Prompt);
        Assert.Equal("1234", parsed["Seed"]);
        Assert.Equal("64x64", parsed["Size"]);
        Assert.Equal("4", parsed["Postprocess upscale by"]);
        Assert.Equal("t2istudio-tiny-x4", parsed["Postprocess upscaler"]);
        Assert.Null(parsed["Denoising strength"]);
        // Reuse parameters: the source's own request, not the upscale.
        Assert.Equal(Request with { Seed = 1234 }, GenerationMetadata.ReadStoredRequest(chunks.RequestJson)!.ToRequest() with { Strength = Request.Strength });
    }
}
