using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Upscaling;

namespace T2IStudio.Generation.Tests.Pipelines;

/// <summary>
/// The nearest-neighbour ×4 fixture upscaler (tools/fixtures/make_upscaler_fixture.py) put in a model root's
/// upscalers/ folder, and the same arithmetic in C# to check its output against.
/// </summary>
internal static class FixtureUpscaler
{
    public const string Id = "nearest-x4";

    /// <summary>Puts the fixture under <paramref name="root"/>/upscalers/<paramref name="id"/>; returns its catalog entry.</summary>
    public static UpscalerInfo Put(string root, string id = Id)
    {
        var folder = Path.Combine(root, UpscalerCatalog.FolderName, id);
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "upscaler_nearest_x4.onnx"), Path.Combine(folder, "model.onnx"));
        return UpscalerCatalog.Inspect(folder);
    }

    public static LoadedUpscaler Load(string root, string id = Id) =>
        LoadedUpscaler.Load(Put(root, id), new ExecutionDevice(DevicePreference.Cpu));

    /// <summary>Each pixel repeated <paramref name="factor"/> × <paramref name="factor"/> times.</summary>
    public static RgbImage Nearest(RgbImage image, int factor)
    {
        int width = image.Width * factor, height = image.Height * factor;
        var pixels = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var from = ((y / factor) * image.Width + x / factor) * 3;
                Array.Copy(image.Pixels, from, pixels, (y * width + x) * 3, 3);
            }
        }
        return new RgbImage(width, height, pixels);
    }
}
