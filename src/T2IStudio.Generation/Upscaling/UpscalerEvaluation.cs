using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Transforms;
using T2IStudio.Generation.Imaging;

namespace T2IStudio.Generation.Upscaling;

/// <summary>A low-resolution image and the high-resolution render it was area-downsampled from.</summary>
/// <param name="Name">The pair's file stem.</param>
/// <param name="Low">The input.</param>
/// <param name="High">The ground truth.</param>
public sealed record HeldOutPair(string Name, RgbImage Low, RgbImage High);

/// <summary>How close one way of enlarging gets to the ground truth, averaged over a set.</summary>
/// <param name="Method">What enlarged the images.</param>
/// <param name="Psnr">Mean peak signal-to-noise ratio in dB (higher is closer).</param>
/// <param name="EdgeSharpness">
/// Mean gradient magnitude at the ground truth's edges relative to the ground truth's own there (1 = as crisp as
/// the truth; a blurred edge spreads its rise over more pixels and scores lower).
/// </param>
public sealed record UpscaleScore(string Method, double Psnr, double EdgeSharpness);

/// <summary>
/// Measures an upscaler against bicubic and Lanczos enlargement on held-out pairs (<c>NAME-low.png</c> beside
/// <c>NAME-high.png</c>), as the embedded upscaler's card reports.
/// </summary>
public static class UpscalerEvaluation
{
    /// <summary>The folder under an upscaler's folder that holds its held-out pairs.</summary>
    public const string HeldOutFolder = "held-out";

    /// <summary>The pairs in <paramref name="folder"/>, by name; at most <paramref name="count"/> of them.</summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="InvalidDataException">A pair's sizes do not match the upscaler's scale.</exception>
    public static IReadOnlyList<HeldOutPair> ReadPairs(string folder, int count = int.MaxValue)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"There is no held-out folder at {folder}.");
        }
        var pairs = new List<HeldOutPair>();
        foreach (var low in Directory.EnumerateFiles(folder, "*-low.png").Order(StringComparer.Ordinal).Take(count))
        {
            var name = Path.GetFileName(low)[..^"-low.png".Length];
            var high = Path.Combine(folder, name + "-high.png");
            if (!File.Exists(high))
            {
                throw new InvalidDataException($"{Path.GetFileName(low)} has no {name}-high.png beside it.");
            }
            pairs.Add(new HeldOutPair(name, Read(low), Read(high)));
        }
        return pairs;
    }

    /// <summary>Scores <paramref name="enlarge"/> over <paramref name="pairs"/>.</summary>
    public static UpscaleScore Score(string method, IReadOnlyList<HeldOutPair> pairs, Func<RgbImage, int, int, RgbImage> enlarge)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(enlarge);
        if (pairs.Count == 0)
        {
            throw new ArgumentException("There are no held-out pairs to score.", nameof(pairs));
        }
        double psnr = 0, sharpness = 0;
        foreach (var pair in pairs)
        {
            var enlarged = enlarge(pair.Low, pair.High.Width, pair.High.Height);
            psnr += Psnr(enlarged, pair.High);
            sharpness += EdgeSharpness(enlarged, pair.High);
        }
        return new UpscaleScore(method, psnr / pairs.Count, sharpness / pairs.Count);
    }

    /// <summary>Bicubic enlargement (ImageSharp's bicubic kernel), the baseline the card compares with.</summary>
    public static RgbImage Bicubic(RgbImage image, int width, int height) => Resample(image, width, height, KnownResamplers.Bicubic);

    /// <summary>Lanczos-3 enlargement.</summary>
    public static RgbImage Lanczos(RgbImage image, int width, int height) => Resample(image, width, height, KnownResamplers.Lanczos3);

    /// <summary>Peak signal-to-noise ratio in dB over all channels (capped at 100 for identical images).</summary>
    public static double Psnr(RgbImage image, RgbImage truth)
    {
        RequireSameSize(image, truth);
        double squared = 0;
        for (var i = 0; i < truth.Pixels.Length; i++)
        {
            double d = image.Pixels[i] - truth.Pixels[i];
            squared += d * d;
        }
        var mse = squared / truth.Pixels.Length;
        return mse == 0 ? 100 : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    /// <summary>
    /// Mean Sobel gradient magnitude of <paramref name="image"/>'s luma at the truth's edge pixels (where the
    /// truth's own gradient is at least a quarter of its largest), over the truth's mean there.
    /// </summary>
    public static double EdgeSharpness(RgbImage image, RgbImage truth)
    {
        RequireSameSize(image, truth);
        var truthGradient = Gradient(truth);
        var imageGradient = Gradient(image);
        var threshold = truthGradient.Max() / 4;
        if (threshold <= 0)
        {
            return 1;
        }
        double ours = 0, theirs = 0;
        for (var i = 0; i < truthGradient.Length; i++)
        {
            if (truthGradient[i] >= threshold)
            {
                ours += imageGradient[i];
                theirs += truthGradient[i];
            }
        }
        return ours / theirs;
    }

    private static double[] Gradient(RgbImage image)
    {
        var (w, h) = (image.Width, image.Height);
        var luma = new double[w * h];
        for (var p = 0; p < luma.Length; p++)
        {
            luma[p] = 0.299 * image.Pixels[p * 3] + 0.587 * image.Pixels[p * 3 + 1] + 0.114 * image.Pixels[p * 3 + 2];
        }
        double At(int x, int y) => luma[Math.Clamp(y, 0, h - 1) * w + Math.Clamp(x, 0, w - 1)];
        var gradient = new double[w * h];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var gx = At(x + 1, y - 1) + 2 * At(x + 1, y) + At(x + 1, y + 1) - At(x - 1, y - 1) - 2 * At(x - 1, y) - At(x - 1, y + 1);
                var gy = At(x - 1, y + 1) + 2 * At(x, y + 1) + At(x + 1, y + 1) - At(x - 1, y - 1) - 2 * At(x, y - 1) - At(x + 1, y - 1);
                gradient[y * w + x] = Math.Sqrt(gx * gx + gy * gy);
            }
        }
        return gradient;
    }

    private static void RequireSameSize(RgbImage image, RgbImage truth)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(truth);
        if (image.Width != truth.Width || image.Height != truth.Height)
        {
            throw new ArgumentException($"The image is {image.Width}×{image.Height} but the truth is {truth.Width}×{truth.Height}.", nameof(image));
        }
    }

    private static RgbImage Read(string path)
    {
        using var image = Image.Load<Rgb24>(path);
        var pixels = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(pixels);
        return new RgbImage(image.Width, image.Height, pixels);
    }

    private static RgbImage Resample(RgbImage image, int width, int height, IResampler resampler)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var source = Image.LoadPixelData<Rgb24>(image.Pixels, image.Width, image.Height);
        source.Mutate(x => x.Resize(width, height, resampler));
        var pixels = new byte[width * height * 3];
        source.CopyPixelDataTo(pixels);
        return new RgbImage(width, height, pixels);
    }
}
