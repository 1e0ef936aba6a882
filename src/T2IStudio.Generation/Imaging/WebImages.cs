using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace T2IStudio.Generation.Imaging;

/// <summary>Small lossy encodings for the browser: live previews and gallery thumbnails.</summary>
public static class WebImages
{
    /// <summary>The longest side of a thumbnail.</summary>
    public const int ThumbnailSide = 256;

    /// <summary>
    /// A JPEG for a live preview, scaled down when its longest side exceeds <paramref name="maxSide"/>;
    /// quality steps down until the bytes fit <paramref name="maxBytes"/>.
    /// </summary>
    public static byte[] PreviewJpeg(RgbImage image, int maxSide = 256, int maxBytes = 64 * 1024)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var picture = Load(image, maxSide);
        byte[] bytes = [];
        foreach (var quality in new[] { 80, 60, 40, 20 })
        {
            using var output = new MemoryStream();
            picture.Save(output, new JpegEncoder { Quality = quality });
            bytes = output.ToArray();
            if (bytes.Length <= maxBytes)
            {
                break;
            }
        }
        return bytes;
    }

    /// <summary>A WebP thumbnail whose longest side is at most <see cref="ThumbnailSide"/> (never enlarged).</summary>
    public static byte[] ThumbnailWebp(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var picture = Load(image, ThumbnailSide);
        using var output = new MemoryStream();
        picture.Save(output, new WebpEncoder { FileFormat = WebpFileFormatType.Lossy, Quality = 82 });
        return output.ToArray();
    }

    private static Image<Rgb24> Load(RgbImage image, int maxSide)
    {
        var picture = Image.LoadPixelData<Rgb24>(image.Pixels, image.Width, image.Height);
        var longest = Math.Max(image.Width, image.Height);
        if (longest > maxSide)
        {
            var scale = (double)maxSide / longest;
            picture.Mutate(c => c.Resize(Math.Max(1, (int)Math.Round(image.Width * scale)), Math.Max(1, (int)Math.Round(image.Height * scale)), KnownResamplers.Lanczos3));
        }
        return picture;
    }
}
