using SixLabors.ImageSharp;
using T2IStudio.Generation.Imaging;

namespace T2IStudio.Generation.Tests.Imaging;

public sealed class WebImagesTests
{
    private static RgbImage Noise(int width, int height, int seed)
    {
        var pixels = new byte[width * height * 3];
        new Random(seed).NextBytes(pixels);
        return new RgbImage(width, height, pixels);
    }

    [Fact]
    public void A_preview_of_a_large_noisy_image_is_a_jpeg_of_at_most_64_kb_and_at_most_256_px()
    {
        var jpeg = WebImages.PreviewJpeg(Noise(1024, 768, 1));

        Assert.True(jpeg.Length <= 64 * 1024, $"{jpeg.Length} bytes");
        var info = Image.Identify(jpeg);
        Assert.Equal("JPEG", Image.DetectFormat(jpeg)?.Name);
        Assert.Equal((256, 192), (info.Width, info.Height));
    }

    [Fact]
    public void A_thumbnail_is_webp_never_enlarged_and_at_most_256_px_on_the_long_side()
    {
        var smallBytes = WebImages.ThumbnailWebp(Noise(64, 64, 2));
        var small = Image.Identify(smallBytes);
        var large = Image.Identify(WebImages.ThumbnailWebp(Noise(768, 512, 3)));

        Assert.Equal("Webp", Image.DetectFormat(smallBytes)?.Name);
        Assert.Equal((64, 64), (small.Width, small.Height));
        Assert.Equal((256, 171), (large.Width, large.Height));
    }
}
