using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Transforms;

namespace T2IStudio.Generation.Imaging;

/// <summary>Crop, resize and paste for inpainting's "only masked" mode.</summary>
public static class ImageOps
{
    /// <summary>The part of <paramref name="image"/> inside <paramref name="rect"/>.</summary>
    public static RgbImage Crop(RgbImage image, PixelRect rect)
    {
        ArgumentNullException.ThrowIfNull(image);
        var pixels = new byte[rect.Width * rect.Height * 3];
        for (var y = 0; y < rect.Height; y++)
        {
            Array.Copy(image.Pixels, ((rect.Y + y) * image.Width + rect.X) * 3, pixels, y * rect.Width * 3, rect.Width * 3);
        }
        return new RgbImage(rect.Width, rect.Height, pixels);
    }

    /// <summary>Resamples to <paramref name="width"/> × <paramref name="height"/> (Lanczos-3; identity when the size matches).</summary>
    public static RgbImage Resize(RgbImage image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Width == width && image.Height == height)
        {
            return image;
        }
        return new RgbImage(width, height, Resample<Rgb24>(image.Pixels, image.Width, image.Height, width, height, 3, KnownResamplers.Lanczos3));
    }

    /// <summary>Resamples a mask (bilinear: soft edges stay soft).</summary>
    public static GrayMask Resize(GrayMask mask, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.Width == width && mask.Height == height)
        {
            return mask;
        }
        return new GrayMask(width, height, Resample<L8>(mask.Values, mask.Width, mask.Height, width, height, 1, KnownResamplers.Triangle));
    }

    private static byte[] Resample<TPixel>(byte[] data, int width, int height, int newWidth, int newHeight, int bytesPerPixel, IResampler resampler)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        using var source = Image.LoadPixelData<TPixel>(data, width, height);
        source.Mutate(c => c.Resize(newWidth, newHeight, resampler));
        var result = new byte[newWidth * newHeight * bytesPerPixel];
        source.CopyPixelDataTo(result);
        return result;
    }

    /// <summary>
    /// original × (1 − m) + generated × m per pixel, with m = mask / 255. Where the mask is 0 the original's
    /// bytes are copied unchanged; <paramref name="generated"/> covers <paramref name="at"/> within the original.
    /// </summary>
    public static RgbImage Composite(RgbImage original, RgbImage generated, GrayMask mask, PixelRect at)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(generated);
        ArgumentNullException.ThrowIfNull(mask);
        var pixels = (byte[])original.Pixels.Clone();
        for (var y = 0; y < at.Height; y++)
        {
            for (var x = 0; x < at.Width; x++)
            {
                int ox = at.X + x, oy = at.Y + y;
                var m = mask.Values[oy * mask.Width + ox];
                if (m == 0)
                {
                    continue;
                }
                var o = (oy * original.Width + ox) * 3;
                var g = (y * generated.Width + x) * 3;
                for (var c = 0; c < 3; c++)
                {
                    pixels[o + c] = (byte)Math.Round((pixels[o + c] * (255 - m) + generated.Pixels[g + c] * m) / 255.0, MidpointRounding.AwayFromZero);
                }
            }
        }
        return new RgbImage(original.Width, original.Height, pixels);
    }

    /// <summary>
    /// A1111's "only masked" crop: the mask's bounding box grown by <paramref name="padding"/>, then widened or
    /// heightened to the processing aspect ratio, shifted back inside the image where it would cross an edge.
    /// </summary>
    public static PixelRect? OnlyMaskedRegion(GrayMask mask, int padding, int processingWidth, int processingHeight)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.Bounds() is not { } box)
        {
            return null;
        }
        int x1 = Math.Max(box.X - padding, 0), y1 = Math.Max(box.Y - padding, 0);
        int x2 = Math.Min(box.Right + padding, mask.Width), y2 = Math.Min(box.Bottom + padding, mask.Height);
        var cropRatio = (double)(x2 - x1) / (y2 - y1);
        var processingRatio = (double)processingWidth / processingHeight;
        if (cropRatio > processingRatio)
        {
            (y1, y2) = Expand(y1, y2, (int)((x2 - x1) / processingRatio - (y2 - y1)), mask.Height);
        }
        else
        {
            (x1, x2) = Expand(x1, x2, (int)((y2 - y1) * processingRatio - (x2 - x1)), mask.Width);
        }
        return new PixelRect(x1, y1, x2 - x1, y2 - y1);
    }

    private static (int Start, int End) Expand(int start, int end, int grow, int limit)
    {
        start -= grow / 2;
        end += grow - grow / 2;
        if (end > limit)
        {
            start -= end - limit;
            end = limit;
        }
        if (start < 0)
        {
            end -= start;
            start = 0;
        }
        return (start, Math.Min(end, limit));
    }
}
