using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;

namespace T2IStudio.Generation.Pipelines;

/// <summary>
/// A cheap latent-to-RGB projection for live previews (no VAE call): a fixed linear map per family, at
/// latent resolution. SD's coefficients are the widely used "approx cheap" ones.
/// </summary>
public static class LatentPreview
{
    // SDXL's VAE has its own latent space: the same kind of fit, made for it (ComfyUI's latent_rgb_factors).
    private static readonly float[,] StableDiffusionXL =
    {
        { 0.3651f, 0.4232f, 0.4341f },
        { -0.2533f, -0.0042f, 0.1068f },
        { 0.1076f, 0.1111f, -0.0362f },
        { -0.3165f, -0.2492f, -0.2188f },
    };

    private static readonly float[,] StableDiffusion =
    {
        { 0.298f, 0.207f, 0.208f },
        { 0.187f, 0.286f, 0.173f },
        { -0.158f, 0.189f, 0.264f },
        { -0.184f, -0.271f, -0.473f },
    };

    /// <summary>Projects image <paramref name="index"/> of [B, C, h, w] latents to an h × w RGB image.</summary>
    public static RgbImage Render(ReadOnlySpan<float> latents, int index, int channels, int width, int height, ModelFamily family, double scalingFactor)
    {
        var plane = width * height;
        var image = latents.Slice(index * channels * plane, channels * plane);
        // Channel-outer accumulation over contiguous planes: the inner loops vectorise.
        Span<float> rgb = new float[3 * plane];
        if (family != ModelFamily.Custom && channels == 4)
        {
            for (var k = 0; k < 4; k++)
            {
                var source = image.Slice(k * plane, plane);
                for (var c = 0; c < 3; c++)
                {
                    var weight = family == ModelFamily.StableDiffusionXL ? StableDiffusionXL[k, c] : StableDiffusion[k, c];
                    var target = rgb.Slice(c * plane, plane);
                    for (var p = 0; p < plane; p++)
                    {
                        target[p] += source[p] * weight;
                    }
                }
            }
        }
        else
        {
            // Small models in the SD layout: the first three latent channels, unscaled, are RGB-like.
            var scale = (float)(1 / scalingFactor);
            for (var c = 0; c < 3; c++)
            {
                var source = image.Slice(Math.Min(c, channels - 1) * plane, plane);
                var target = rgb.Slice(c * plane, plane);
                for (var p = 0; p < plane; p++)
                {
                    target[p] = source[p] * scale;
                }
            }
        }
        var pixels = new byte[plane * 3];
        for (var c = 0; c < 3; c++)
        {
            var channel = rgb.Slice(c * plane, plane);
            for (var p = 0; p < plane; p++)
            {
                pixels[p * 3 + c] = (byte)Math.Clamp((channel[p] + 1f) * 127.5f, 0f, 255f);
            }
        }
        return new RgbImage(width, height, pixels);
    }
}
