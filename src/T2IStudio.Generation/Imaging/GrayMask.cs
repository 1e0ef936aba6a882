namespace T2IStudio.Generation.Imaging;

/// <summary>A rectangle in pixels: [X, X + Width) × [Y, Y + Height).</summary>
public readonly record struct PixelRect(int X, int Y, int Width, int Height)
{
    /// <summary>Right edge (exclusive).</summary>
    public int Right => X + Width;

    /// <summary>Bottom edge (exclusive).</summary>
    public int Bottom => Y + Height;
}

/// <summary>An 8-bit mask: 255 repaints, 0 keeps, values between feather the edge.</summary>
public sealed class GrayMask
{
    /// <summary>Wraps <paramref name="values"/> (length width × height).</summary>
    public GrayMask(int width, int height, byte[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != width * height)
        {
            throw new ArgumentException($"A {width}×{height} mask needs {width * height} values, not {values.Length}.", nameof(values));
        }
        Width = width;
        Height = height;
        Values = values;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Mask values, row-major.</summary>
    public byte[] Values { get; }

    /// <summary>True when no pixel is to be repainted.</summary>
    public bool IsEmpty => Array.TrueForAll(Values, v => v < 128);

    /// <summary>Repaint what was kept and keep what was repainted.</summary>
    public GrayMask Invert() => new(Width, Height, [.. Values.Select(v => (byte)(255 - v))]);

    /// <summary>
    /// Feathers the edge with a Gaussian-like blur of <paramref name="radius"/> pixels (three box passes per
    /// axis). Pixels farther than 3 × radius from any masked pixel stay exactly 0, so they are kept exactly.
    /// </summary>
    public GrayMask Blur(int radius)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        if (radius == 0)
        {
            return this;
        }
        var current = Values.Select(v => (float)v).ToArray();
        var scratch = new float[current.Length];
        for (var pass = 0; pass < 3; pass++)
        {
            BoxBlur(current, scratch, Width, Height, radius, horizontal: true);
            BoxBlur(scratch, current, Width, Height, radius, horizontal: false);
        }
        return new GrayMask(Width, Height, [.. current.Select(v => (byte)Math.Clamp(MathF.Round(v), 0, 255))]);
    }

    /// <summary>The bounding box of the pixels to repaint (value ≥ 128), or null when there are none.</summary>
    public PixelRect? Bounds()
    {
        int minX = Width, minY = Height, maxX = -1, maxY = -1;
        for (var y = 0; y < Height; y++)
        {
            for (var x = 0; x < Width; x++)
            {
                if (Values[y * Width + x] >= 128)
                {
                    minX = Math.Min(minX, x);
                    maxX = Math.Max(maxX, x);
                    minY = Math.Min(minY, y);
                    maxY = Math.Max(maxY, y);
                }
            }
        }
        return maxX < 0 ? null : new PixelRect(minX, minY, maxX - minX + 1, maxY - minY + 1);
    }

    /// <summary>The latent-resolution mask: a cell repaints (1) when any pixel in it does.</summary>
    public float[] ToLatent(int factor)
    {
        int h = Height / factor, w = Width / factor;
        var latent = new float[h * w];
        for (var y = 0; y < Height; y++)
        {
            for (var x = 0; x < Width; x++)
            {
                if (Values[y * Width + x] >= 128)
                {
                    latent[Math.Min(y / factor, h - 1) * w + Math.Min(x / factor, w - 1)] = 1f;
                }
            }
        }
        return latent;
    }

    /// <summary>The part of the mask inside <paramref name="rect"/>.</summary>
    public GrayMask Crop(PixelRect rect)
    {
        var values = new byte[rect.Width * rect.Height];
        for (var y = 0; y < rect.Height; y++)
        {
            Array.Copy(Values, (rect.Y + y) * Width + rect.X, values, y * rect.Width, rect.Width);
        }
        return new GrayMask(rect.Width, rect.Height, values);
    }

    private static void BoxBlur(float[] source, float[] target, int width, int height, int radius, bool horizontal)
    {
        int lines = horizontal ? height : width, length = horizontal ? width : height;
        var window = 2 * radius + 1;
        for (var line = 0; line < lines; line++)
        {
            int Index(int i) => horizontal ? line * width + i : i * width + line;
            double sum = 0;
            for (var i = -radius; i <= radius; i++)
            {
                sum += source[Index(Math.Clamp(i, 0, length - 1))];
            }
            for (var i = 0; i < length; i++)
            {
                target[Index(i)] = (float)(sum / window);
                sum += source[Index(Math.Min(i + radius + 1, length - 1))] - source[Index(Math.Max(i - radius, 0))];
            }
        }
    }
}
