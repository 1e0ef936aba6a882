using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;

namespace T2IStudio.Generation.Pipelines;

/// <summary>
/// A cheap latent-to-RGB projection for live previews (no VAE call): a fixed linear map per family, at
/// latent resolution. SD's coefficients are the widely used "approx cheap" ones.
/// </summary>
public static class LatentPreview
{
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
        var offset = index * channels * plane;
        var pixels = new byte[plane * 3];
        var sd = family != ModelFamily.Custom && channels == 4;
        for (var p = 0; p < plane; p++)
        {
            for (var c = 0; c < 3; c++)
            {
                float v;
                if (sd)
                {
                    v = 0;
                    for (var k = 0; k < 4; k++)
                    {
                        v += latents[offset + k * plane + p] * StableDiffusion[k, c];
                    }
                }
                else
                {
                    // Small models in the SD layout: the first three latent channels, unscaled, are RGB-like.
                    v = (float)(latents[offset + Math.Min(c, channels - 1) * plane + p] / scalingFactor);
                }
                pixels[p * 3 + c] = (byte)Math.Clamp((v + 1f) * 127.5f, 0f, 255f);
            }
        }
        return new RgbImage(width, height, pixels);
    }
}
