namespace T2IStudio.Generation.Imaging;

/// <summary>An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B.</summary>
public sealed class RgbImage
{
    /// <summary>Wraps <paramref name="pixels"/> (length width × height × 3).</summary>
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (pixels.Length != width * height * 3)
        {
            throw new ArgumentException($"An RGB image of {width}×{height} needs {width * height * 3} bytes, not {pixels.Length}.", nameof(pixels));
        }
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>RGB bytes, row-major.</summary>
    public byte[] Pixels { get; }

    /// <summary>A solid-colour image.</summary>
    public static RgbImage Filled(int width, int height, byte r, byte g, byte b)
    {
        var pixels = new byte[width * height * 3];
        for (var i = 0; i < pixels.Length; i += 3)
        {
            pixels[i] = r;
            pixels[i + 1] = g;
            pixels[i + 2] = b;
        }
        return new RgbImage(width, height, pixels);
    }

    /// <summary>The image as a [3, H, W] tensor in [−1, 1] (the VAE's input range).</summary>
    public float[] ToTensor()
    {
        var plane = Width * Height;
        var tensor = new float[3 * plane];
        for (var p = 0; p < plane; p++)
        {
            for (var c = 0; c < 3; c++)
            {
                tensor[c * plane + p] = Pixels[p * 3 + c] / 127.5f - 1f;
            }
        }
        return tensor;
    }

    /// <summary>Image <paramref name="index"/> of a [B, 3, H, W] tensor in [−1, 1], rounded to bytes.</summary>
    public static RgbImage FromTensor(ReadOnlySpan<float> tensor, int index, int width, int height)
    {
        var plane = width * height;
        var offset = index * 3 * plane;
        var pixels = new byte[plane * 3];
        for (var p = 0; p < plane; p++)
        {
            for (var c = 0; c < 3; c++)
            {
                var v = (tensor[offset + c * plane + p] + 1f) * 0.5f;
                pixels[p * 3 + c] = (byte)Math.Round(Math.Clamp(v, 0f, 1f) * 255f, MidpointRounding.AwayFromZero);
            }
        }
        return new RgbImage(width, height, pixels);
    }
}
