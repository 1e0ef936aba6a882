namespace T2IStudio.Generation.Imaging;

/// <summary>Reads a painted mask (a PNG from the browser's editor) and checks it against its image.</summary>
public static class MaskFiles
{
    /// <summary>The largest mask file accepted, in bytes.</summary>
    public const long MaxBytes = 8 * 1024 * 1024;

    /// <summary>
    /// Decodes <paramref name="png"/> through <see cref="ImageIntake"/> (PNG only, its size checked from the header) into a mask (luminance: white repaints,
    /// black keeps, grey feathers) and checks that it is <paramref name="width"/> × <paramref name="height"/>
    /// and paints something.
    /// </summary>
    /// <exception cref="InvalidDataException">Too large, not an image, the wrong size, or empty; the message says which.</exception>
    public static GrayMask Decode(byte[] png, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(png);
        if (png.Length > MaxBytes)
        {
            throw new InvalidDataException($"The mask is {png.Length / 1024 / 1024.0:0.#} MB; the most accepted is {MaxBytes / 1024 / 1024} MB.");
        }
        if (!png.AsSpan().StartsWith(PngChunks.Signature))
        {
            throw new InvalidDataException("The mask is not a readable PNG image.");
        }
        RgbImage image;
        try
        {
            // The same intake as an upload: header and size checked before anything is decoded.
            image = ImageIntake.Read(png, IntakeOptions.StoredPng with { ExpectedSize = (width, height) }).Image;
        }
        catch (ImageRefusedException ex)
        {
            throw new InvalidDataException(ex.Message.StartsWith("The mask is ", StringComparison.Ordinal) ? ex.Message : $"The mask could not be read. {ex.Message}", ex);
        }
        var values = new byte[width * height];
        var pixels = image.Pixels;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (byte)((pixels[3 * i] * 299 + pixels[3 * i + 1] * 587 + pixels[3 * i + 2] * 114 + 500) / 1000);
        }
        var mask = new GrayMask(width, height, values);
        if (mask.IsEmpty)
        {
            throw new InvalidDataException("The mask is empty: paint the area to change.");
        }
        return mask;
    }

    /// <summary>A mask as a greyscale-looking RGB PNG (what is stored beside an inpainted image).</summary>
    public static byte[] Encode(GrayMask mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        var rgb = new byte[mask.Values.Length * 3];
        for (var i = 0; i < mask.Values.Length; i++)
        {
            rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = mask.Values[i];
        }
        return PngFiles.Encode(new RgbImage(mask.Width, mask.Height, rgb), null, null);
    }

    /// <summary>
    /// The working resolution for inpainting a <paramref name="width"/> × <paramref name="height"/> image: the
    /// image's own size when it is a multiple of <paramref name="factor"/> no larger than twice the model's
    /// native side, otherwise the native side on the long edge with the aspect kept, both multiples of the factor.
    /// </summary>
    public static (int Width, int Height) WorkingSize(int width, int height, int nativeSide, int factor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        if (width % factor == 0 && height % factor == 0 && Math.Max(width, height) <= 2 * nativeSide)
        {
            return (width, height);
        }
        var scale = (double)nativeSide / Math.Max(width, height);
        int Round(int side) => Math.Max(factor, (int)Math.Round(side * scale / factor) * factor);
        return (Round(width), Round(height));
    }
}
