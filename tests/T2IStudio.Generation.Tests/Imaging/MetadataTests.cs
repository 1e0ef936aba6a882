using SixLabors.ImageSharp;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Tests.Imaging;

public sealed class MetadataTests
{
    private static readonly GenerationRequest Request = new()
    {
        Prompt = "a (red:1.2) circle, above a square",
        NegativePrompt = "blurry",
        Steps = 20,
        GuidanceScale = 7,
        Width = 64,
        Height = 64,
        Seed = 1234,
        Scheduler = SchedulerKind.EulerAncestral,
    };

    [Fact]
    public void Parameters_text_follows_the_A1111_layout()
    {
        var text = GenerationMetadata.ParametersText(GenerationMetadata.Describe(Request, "tiny-shapes", 1), "0123456789");
        Assert.Equal(
            "a (red:1.2) circle, above a square\nNegative prompt: blurry\n" +
            "Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 1235, Size: 64x64, Model hash: 0123456789, Model: tiny-shapes",
            text);
    }

    [Theory]
    [InlineData(SchedulerKind.DpmPlusPlus2MKarras, "Sampler: DPM++ 2M, Schedule type: Karras,")]
    [InlineData(SchedulerKind.DpmPlusPlus2M, "Sampler: DPM++ 2M, Schedule type: Uniform,")]
    [InlineData(SchedulerKind.Ddim, "Sampler: DDIM, Schedule type: Automatic,")]
    [InlineData(SchedulerKind.Lcm, "Sampler: LCM, Schedule type: Automatic,")]
    public void Sampler_and_schedule_type_are_written_apart_as_A1111_1_10_does(SchedulerKind kind, string expected)
    {
        var text = GenerationMetadata.ParametersText(GenerationMetadata.Describe(Request with { Scheduler = kind }, "tiny-shapes", 0), null);
        Assert.Contains(expected, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Reads_an_A1111_file_with_a_multiline_prompt_and_quoted_values()
    {
        const string a1111 = "masterpiece, a cat\non a mat\nNegative prompt: lowres, bad hands\n" +
            "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 987, Size: 512x768, Model hash: abcdef1234, " +
            "Model: sd15, Lora hashes: \"detail: 1a2b, style: 3c4d\", Version: v1.9.4";
        var parsed = GenerationParameters.Parse(a1111);
        Assert.Equal("masterpiece, a cat\non a mat", parsed.Prompt);
        Assert.Equal("lowres, bad hands", parsed.NegativePrompt);
        Assert.Equal("DPM++ 2M Karras", parsed["Sampler"]);
        Assert.Equal("512x768", parsed["Size"]);
        Assert.Equal("detail: 1a2b, style: 3c4d", parsed["Lora hashes"]);
        Assert.Equal("v1.9.4", parsed["Version"]);
        Assert.Equal(a1111, parsed.Format());
    }

    [Fact]
    public void A_prompt_without_negative_or_settings_parses_whole()
    {
        var parsed = GenerationParameters.Parse("just a prompt");
        Assert.Equal("just a prompt", parsed.Prompt);
        Assert.Equal("", parsed.NegativePrompt);
        Assert.Empty(parsed.Settings);
    }

    [Fact]
    public void Png_carries_both_chunks_reads_them_back_and_encodes_deterministically()
    {
        var image = RgbImage.Filled(16, 8, 10, 20, 30);
        var stored = GenerationMetadata.Describe(Request with { Prompt = "猫 🐱 and Ærø" }, "tiny", 0);
        var png = GenerationMetadata.EncodePng(image, stored, "abcdef0123");
        Assert.Equal(png, GenerationMetadata.EncodePng(image, stored, "abcdef0123"));

        using var stream = new MemoryStream(png);
        var chunks = PngFiles.ReadText(stream);
        Assert.StartsWith("猫 🐱 and Ærø\nNegative prompt: blurry\nSteps: 20", chunks.Parameters, StringComparison.Ordinal);
        Assert.Equal(stored, GenerationMetadata.ReadStoredRequest(chunks.RequestJson));

        stream.Position = 0;
        var decoded = PngFiles.Decode(stream);
        Assert.Equal(image.Pixels, decoded.Pixels);
        Assert.Contains("parameters", System.Text.Encoding.Latin1.GetString(png), StringComparison.Ordinal);
    }

    [Fact]
    public void The_decoder_refuses_formats_outside_png_jpeg_webp_and_oversized_images()
    {
        byte[] gif = [.. "GIF89a"u8, 1, 0, 1, 0, 0, 0, 0, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3B];
        Assert.ThrowsAny<Exception>(() => PngFiles.Decode(new MemoryStream(gif)));

        var huge = WithHeaderSize(PngFiles.Encode(RgbImage.Filled(2, 2, 0, 0, 0), null, null), 5000, 5000);
        var error = Assert.Throws<ImageRefusedException>(() => PngFiles.Decode(new MemoryStream(huge)));
        Assert.Contains("5000×5000", error.Message, StringComparison.Ordinal);
    }

    // Rewrites IHDR's width and height (and its CRC) so the header claims a huge image.
    private static byte[] WithHeaderSize(byte[] png, int width, int height)
    {
        var copy = (byte[])png.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(16), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(20), height);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(29), PngCrc.Of(copy.AsSpan(12, 17)));
        return copy;
    }
}
