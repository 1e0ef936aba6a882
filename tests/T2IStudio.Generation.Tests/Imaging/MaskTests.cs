using T2IStudio.Generation.Imaging;

namespace T2IStudio.Generation.Tests.Imaging;

public sealed class MaskTests
{
    internal static GrayMask Square(int size, int x, int y, int side)
    {
        var values = new byte[size * size];
        for (var yy = y; yy < y + side; yy++)
        {
            for (var xx = x; xx < x + side; xx++)
            {
                values[yy * size + xx] = 255;
            }
        }
        return new GrayMask(size, size, values);
    }

    [Fact]
    public void Bounds_invert_and_latent_cells()
    {
        var mask = Square(64, 10, 20, 8);
        Assert.Equal(new PixelRect(10, 20, 8, 8), mask.Bounds());
        Assert.Null(new GrayMask(4, 4, new byte[16]).Bounds());
        Assert.True(mask.Invert().Values[0] == 255 && mask.Invert().Values[20 * 64 + 10] == 0);

        var latent = mask.ToLatent(8); // x 10..17 → cells 1, 2; y 20..27 → cells 2, 3
        Assert.Equal(4, latent.Count(v => v == 1f));
        Assert.Equal(1f, latent[2 * 8 + 1]);
        Assert.Equal(1f, latent[3 * 8 + 2]);
    }

    [Fact]
    public void Blur_feathers_the_edge_and_leaves_far_pixels_exactly_zero()
    {
        // Three box passes of radius 4 reach 12 pixels: the square's middle (16 from every edge) stays 255.
        var blurred = Square(64, 16, 16, 32).Blur(4);
        Assert.Equal(255, blurred.Values[32 * 64 + 32]);
        Assert.InRange(blurred.Values[32 * 64 + 16], 60, 200); // the edge is soft
        Assert.Equal(0, blurred.Values[0]);                   // far away: exactly kept
        Assert.Equal(0, blurred.Values[32 * 64 + 16 - 13]);   // 13 pixels outside the edge: beyond the kernel
    }

    [Fact]
    public void Mask_size_must_match_its_values()
    {
        Assert.Throws<ArgumentException>(() => new GrayMask(4, 4, new byte[15]));
    }

    [Theory]
    // Box x 40–50, y 45–49; padded by 8 → x 32–58, y 37–57 (26×20); square aspect: height +6 → y 34–60.
    [InlineData(100, 100, 40, 45, 10, 4, 8, 64, 64, 32, 34, 26, 26)]
    // Box x 0–4, y 40–70; padded → x 0–12, y 32–78 (12×46); width +34 → x −17–29, shifted right → 0–46.
    [InlineData(100, 100, 0, 40, 4, 30, 8, 64, 64, 0, 32, 46, 46)]
    // Box 40–60 square, no padding; a 2:1 processing aspect widens it by 20 → x 30–70.
    [InlineData(100, 100, 40, 40, 20, 20, 0, 128, 64, 30, 40, 40, 20)]
    // Padding larger than the image clamps to the image.
    [InlineData(64, 64, 20, 20, 10, 10, 200, 64, 64, 0, 0, 64, 64)]
    public void Only_masked_crop_pads_matches_the_aspect_and_stays_inside(int width, int height, int mx, int my, int mw, int mh, int padding, int pw, int ph, int x, int y, int w, int h)
    {
        var values = new byte[width * height];
        for (var yy = my; yy < my + mh; yy++)
        {
            for (var xx = mx; xx < mx + mw; xx++)
            {
                values[yy * width + xx] = 255;
            }
        }
        var region = ImageOps.OnlyMaskedRegion(new GrayMask(width, height, values), padding, pw, ph);
        Assert.Equal(new PixelRect(x, y, w, h), region);
    }

    [Fact]
    public void Composite_copies_original_bytes_where_the_mask_is_zero()
    {
        var original = new RgbImage(4, 1, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        var generated = RgbImage.Filled(4, 1, 200, 200, 200);
        var mask = new GrayMask(4, 1, [0, 255, 128, 0]);
        var result = ImageOps.Composite(original, generated, mask, new PixelRect(0, 0, 4, 1));
        Assert.Equal([1, 2, 3], result.Pixels[..3]);
        Assert.Equal([200, 200, 200], result.Pixels[3..6]);
        Assert.Equal((byte)Math.Round((7 * 127 + 200 * 128) / 255.0), result.Pixels[6]);
        Assert.Equal([10, 11, 12], result.Pixels[9..]);
    }
}
