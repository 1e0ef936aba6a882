using Microsoft.ML.OnnxRuntime;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Onnx;

namespace T2IStudio.Generation.Upscaling;

/// <summary>Progress of one upscale: tiles done of all tiles.</summary>
/// <param name="Tile">Tiles finished (1-based).</param>
/// <param name="Tiles">Tiles this upscale runs.</param>
public sealed record UpscaleProgress(int Tile, int Tiles);

/// <summary>
/// An upscaler's session, created once and reused; dispose to unload. Not thread-safe: one worker per device
/// runs one job at a time.
/// </summary>
public sealed class LoadedUpscaler : IDisposable
{
    private readonly OnnxComponent _session;

    private LoadedUpscaler(UpscalerInfo info, OnnxComponent session)
    {
        Info = info;
        _session = session;
    }

    /// <summary>The catalog entry this was loaded from.</summary>
    public UpscalerInfo Info { get; }

    /// <summary>Creates the session of an available upscaler.</summary>
    public static LoadedUpscaler Load(UpscalerInfo info, ExecutionDevice device)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (!info.IsAvailable)
        {
            throw new InvalidOperationException($"Upscaler '{info.Id}' is unavailable: {info.Problem}");
        }
        return new LoadedUpscaler(info, new OnnxComponent(Path.Combine(info.Folder, "model.onnx"), device));
    }

    /// <summary>
    /// <paramref name="image"/> enlarged <paramref name="scale"/> times on each side: the network's own factor,
    /// then a Lanczos resample to the exact size when <paramref name="scale"/> differs from it.
    /// </summary>
    public RgbImage Upscale(RgbImage image, double scale, IProgress<UpscaleProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        cancellationToken.ThrowIfCancellationRequested();
        using var runOptions = new RunOptions();
        using var cancel = cancellationToken.Register(() => runOptions.Terminate = true);
        var output = _session.Run([ComponentInput.OfFloats(_session.Inputs.Keys.Single(), ToUnitTensor(image), 1, 3, image.Height, image.Width)], runOptions: runOptions);
        var enlarged = FromUnitTensor(output.Values, (int)output.Shape[3], (int)output.Shape[2]);
        progress?.Report(new UpscaleProgress(1, 1));
        var width = (int)Math.Round(image.Width * scale);
        var height = (int)Math.Round(image.Height * scale);
        return ImageOps.Resize(enlarged, width, height);
    }

    /// <summary>The image as a [3, H, W] tensor in [0, 1] (the ESRGAN family's input range).</summary>
    internal static float[] ToUnitTensor(RgbImage image)
    {
        var plane = image.Width * image.Height;
        var tensor = new float[3 * plane];
        for (var p = 0; p < plane; p++)
        {
            for (var c = 0; c < 3; c++)
            {
                tensor[c * plane + p] = image.Pixels[p * 3 + c] / 255f;
            }
        }
        return tensor;
    }

    /// <summary>A [3, H, W] tensor in [0, 1], rounded to bytes.</summary>
    internal static RgbImage FromUnitTensor(ReadOnlySpan<float> tensor, int width, int height)
    {
        var plane = width * height;
        var pixels = new byte[plane * 3];
        for (var p = 0; p < plane; p++)
        {
            for (var c = 0; c < 3; c++)
            {
                pixels[p * 3 + c] = (byte)Math.Round(Math.Clamp(tensor[c * plane + p], 0f, 1f) * 255f, MidpointRounding.AwayFromZero);
            }
        }
        return new RgbImage(width, height, pixels);
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}
