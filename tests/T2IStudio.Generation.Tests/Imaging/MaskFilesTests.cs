using T2IStudio.Generation.Imaging;

namespace T2IStudio.Generation.Tests.Imaging;

public sealed class MaskFilesTests
{
    private static byte[] MaskPng(int width, int height, Func<int, int, byte> value)
    {
        var values = new byte[width * height];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                values[y * width + x] = value(x, y);
            }
        }
        return MaskFiles.Encode(new GrayMask(width, height, values));
    }

    [Fact]
    public void A_painted_png_decodes_to_its_grey_values_white_repaints_black_keeps()
    {
        var png = MaskPng(8, 4, (x, y) => (byte)(x < 4 ? 0 : x == 4 ? 128 : 255));

        var mask = MaskFiles.Decode(png, 8, 4);

        Assert.Equal((byte)0, mask.Values[0]);
        Assert.Equal((byte)128, mask.Values[4]);
        Assert.Equal((byte)255, mask.Values[7]);
        Assert.Equal((byte)255, mask.Values[3 * 8 + 7]);
    }

    [Fact]
    public void A_colour_mask_counts_by_luminance()
    {
        var rgb = new byte[2 * 3];
        rgb[0] = 255; // pure red: luminance 76
        rgb[3] = rgb[4] = rgb[5] = 255;
        var png = PngFiles.Encode(new RgbImage(2, 1, rgb), null, null);

        var mask = MaskFiles.Decode(png, 2, 1);

        Assert.Equal([76, 255], mask.Values.Select(v => (int)v));
    }

    [Fact]
    public void A_mask_of_another_size_is_refused_with_both_sizes_in_the_message()
    {
        var error = Assert.Throws<InvalidDataException>(() => MaskFiles.Decode(MaskPng(32, 32, (_, _) => 255), 64, 48));
        Assert.Equal("The mask is 32×32; the image is 64×48.", error.Message);
    }

    [Fact]
    public void An_empty_mask_says_to_paint_first()
    {
        var error = Assert.Throws<InvalidDataException>(() => MaskFiles.Decode(MaskPng(16, 16, (_, _) => 0), 16, 16));
        Assert.Equal("The mask is empty: paint the area to change.", error.Message);
    }

    [Fact]
    public void Bytes_that_are_not_an_image_and_oversized_files_are_refused_before_decoding()
    {
        var garbage = Assert.Throws<InvalidDataException>(() => MaskFiles.Decode("GIF89a not really"u8.ToArray(), 4, 4));
        Assert.Equal("The mask is not a readable PNG image.", garbage.Message);

        var huge = new byte[MaskFiles.MaxBytes + 1];
        var tooBig = Assert.Throws<InvalidDataException>(() => MaskFiles.Decode(huge, 4, 4));
        Assert.StartsWith("The mask is 8 MB; the most accepted is 8 MB.", tooBig.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(64, 64, 64, 8, 64, 64)]       // already a working size
    [InlineData(128, 96, 64, 8, 128, 96)]     // up to twice the native side is kept
    [InlineData(1024, 768, 64, 8, 64, 48)]    // large photos come down to the native side, aspect kept
    [InlineData(700, 300, 512, 8, 512, 216)]  // not a multiple of the factor: scaled and rounded
    [InlineData(30, 1000, 64, 4, 4, 64)]      // a thin strip keeps at least one factor
    public void The_working_size_keeps_the_aspect_in_multiples_of_the_factor(int width, int height, int native, int factor, int expectedWidth, int expectedHeight)
    {
        Assert.Equal((expectedWidth, expectedHeight), MaskFiles.WorkingSize(width, height, native, factor));
    }

    [Fact]
    public void A_camera_jpeg_is_decoded_upright_by_its_exif_orientation_as_browsers_show_it()
    {
        using var photo = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(40, 20, new SixLabors.ImageSharp.PixelFormats.Rgb24(200, 30, 30));
        photo.Metadata.ExifProfile = new SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifProfile();
        photo.Metadata.ExifProfile.SetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation, (ushort)6); // rotate 90° clockwise
        using var jpeg = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsJpeg(photo, jpeg);
        jpeg.Position = 0;

        var decoded = PngFiles.Decode(jpeg);

        Assert.Equal((20, 40), (decoded.Width, decoded.Height));
    }
}
