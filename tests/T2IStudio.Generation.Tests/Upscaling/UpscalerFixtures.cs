using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Upscaling;

namespace T2IStudio.Generation.Tests.Upscaling;

/// <summary>The upscaler graphs tools/fixtures/make_upscaler_fixtures.py writes, and test images for them.</summary>
internal static class UpscalerFixtures
{
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static string Folder(string id) => Path.Combine(Root, UpscalerCatalog.FolderName, id);

    public static LoadedUpscaler Load(string id, int tileSize = 2048, int overlap = LoadedUpscaler.DefaultOverlap) =>
        LoadedUpscaler.Load(UpscalerCatalog.Inspect(Folder(id)), new ExecutionDevice(DevicePreference.Cpu), tileSize, overlap);

    /// <summary>Flat regions, hard edges, a gradient and noise, from a fixed seed: every kind of content a seam could hide in.</summary>
    public static RgbImage Picture(int width, int height, int seed = 1)
    {
        var random = new Random(seed);
        var pixels = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var inDisc = (x - width / 3.0) * (x - width / 3.0) + (y - height / 2.0) * (y - height / 2.0) < width * height / 12.0;
                var inBar = x > width * 2 / 3 && y % 20 < 9;
                for (var c = 0; c < 3; c++)
                {
                    var value = inDisc ? 40 + 70 * c : inBar ? 230 - 60 * c : 255.0 * (x + c * y) / (width + 2 * height);
                    pixels[(y * width + x) * 3 + c] = (byte)Math.Clamp(value + random.Next(-12, 13), 0, 255);
                }
            }
        }
        return new RgbImage(width, height, pixels);
    }

    /// <summary>Largest per-channel difference, in 1/255 steps, between two images of one size inside a predicate.</summary>
    public static int MaxDifference(RgbImage a, RgbImage b, Func<int, int, bool>? where = null)
    {
        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        var max = 0;
        for (var y = 0; y < a.Height; y++)
        {
            for (var x = 0; x < a.Width; x++)
            {
                if (where is not null && !where(x, y))
                {
                    continue;
                }
                for (var c = 0; c < 3; c++)
                {
                    var i = (y * a.Width + x) * 3 + c;
                    max = Math.Max(max, Math.Abs(a.Pixels[i] - b.Pixels[i]));
                }
            }
        }
        return max;
    }
}

/// <summary>A progress sink that records reports as they happen (Progress&lt;T&gt; would post them later).</summary>
internal sealed class Recorded<T>(Action<T>? then = null) : IProgress<T>
{
    public List<T> Reports { get; } = [];

    public void Report(T value)
    {
        Reports.Add(value);
        then?.Invoke(value);
    }
}
