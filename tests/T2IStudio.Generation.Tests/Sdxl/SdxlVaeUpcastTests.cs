using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace T2IStudio.Generation.Tests.Sdxl;

public sealed class SdxlVaeUpcastTests
{
    // Channel values 1.0 / 0.13025 = 7.68 overflow the fixture's fp16 arithmetic (x · 1e4 > 65504); 0.05 does not.
    private static float[] Latents()
    {
        var latents = new float[4 * 6 * 8];
        for (var i = 0; i < latents.Length; i++)
        {
            latents[i] = i % 3 == 0 ? 1.0f : i % 3 == 1 ? -0.05f : 0.05f;
        }
        return latents;
    }

    [Fact]
    public void An_fp16_vae_decoder_is_loaded_as_fp32_when_its_config_says_force_upcast_and_decodes_what_fp16_cannot()
    {
        using var fixture = new SdxlFixture(vaeDecoder: "sdxl_vae_decoder_fp16.onnx");
        Assert.True(fixture.Info.Traits!.IsFloat16Vae);
        Assert.EndsWith("fp16 VAE run in fp32 (force_upcast)", fixture.Info.Summary, StringComparison.Ordinal);
        using var model = fixture.Load();
        using var run = new RunOptions();

        var images = SdxlFixture.Pipeline(model).Decode(Latents(), 1, 64, 48, run, CancellationToken.None);

        Assert.Equal(TensorElementType.Float, model.VaeDecoder.Inputs["latent_sample"].ElementType);
        Assert.Equal(SdxlMath.Decode(Latents(), 64, 48), images[0].Pixels);
    }

    [Fact]
    public void Without_force_upcast_an_overflowing_fp16_decoder_fails_with_a_message_instead_of_a_black_image()
    {
        using var fixture = new SdxlFixture(vaeDecoder: "sdxl_vae_decoder_fp16.onnx", vaeConfig: SdxlFixture.VaeConfig.Replace("\"force_upcast\":true", "\"force_upcast\":false", StringComparison.Ordinal));
        using var model = fixture.Load();
        using var run = new RunOptions();
        Assert.Equal(TensorElementType.Float16, model.VaeDecoder.Inputs["latent_sample"].ElementType);

        var error = Assert.Throws<InvalidOperationException>(() => SdxlFixture.Pipeline(model).Decode(Latents(), 1, 64, 48, run, CancellationToken.None));

        Assert.Contains("the fp16 VAE decoder overflowed", error.Message, StringComparison.Ordinal);
    }
}
