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
/// <remarks>
/// Images run in overlapping tiles (<see cref="TileLayout"/>) so that memory stays one tile's tensors plus the
/// output, whatever the image size; the tiles are blended with weights that ramp linearly across the middle of
/// each overlap, which is continuous, so no seam shows, and equals the untiled run wherever the network's
/// receptive field stays inside the tile.
/// </remarks>
public sealed class LoadedUpscaler : IDisposable
{
    /// <summary>Input tile side by default: small enough for any device, large enough that overlaps cost little.</summary>
    public const int DefaultTileSize = 192;

    /// <summary>Input pixels two neighbouring tiles share by default.</summary>
    public const int DefaultOverlap = 32;

    private readonly OnnxComponent _session;
    private readonly string _input;
    private readonly int? _fixedWidth;
    private readonly int? _fixedHeight;

    private LoadedUpscaler(UpscalerInfo info, OnnxComponent session, int tileSize, int overlap)
    {
        Info = info;
        _session = session;
        var input = session.Inputs.Values.Single();
        _input = input.Name;
        _fixedHeight = input.Dimensions[2] > 0 ? input.Dimensions[2] : null;
        _fixedWidth = input.Dimensions[3] > 0 ? input.Dimensions[3] : null;
        if (_fixedWidth > UpscalerCatalog.MaxFixedTileSide || _fixedHeight > UpscalerCatalog.MaxFixedTileSide)
        {
            // The file changed since the catalog looked: the same refusal the catalog gives.
            throw new InvalidOperationException(
                $"Upscaler '{info.Id}' takes a fixed {input.Dimensions[3]}×{input.Dimensions[2]} input; the largest tile side T2I Studio runs is {UpscalerCatalog.MaxFixedTileSide}.");
        }
        TileWidth = _fixedWidth ?? tileSize;
        TileHeight = _fixedHeight ?? tileSize;
        Overlap = Math.Min(overlap, Math.Min(TileWidth, TileHeight) / 2);
    }

    /// <summary>The catalog entry this was loaded from.</summary>
    public UpscalerInfo Info { get; }

    /// <summary>Input tile width: the graph's fixed width, else the configured tile size.</summary>
    public int TileWidth { get; }

    /// <summary>Input tile height: the graph's fixed height, else the configured tile size.</summary>
    public int TileHeight { get; }

    /// <summary>Input pixels neighbouring tiles share (at most half a tile).</summary>
    public int Overlap { get; }

    /// <summary>Creates the session of an available upscaler.</summary>
    public static LoadedUpscaler Load(UpscalerInfo info, ExecutionDevice device) => Load(info, device, DefaultTileSize, DefaultOverlap);

    /// <summary>Creates the session of an available upscaler that runs images in <paramref name="tileSize"/>-px tiles.</summary>
    /// <param name="info">An available catalog entry.</param>
    /// <param name="device">Where the session runs.</param>
    /// <param name="tileSize">Input tile side (ignored for a graph with a fixed input size, which sets it).</param>
    /// <param name="overlap">Input pixels neighbouring tiles share.</param>
    public static LoadedUpscaler Load(UpscalerInfo info, ExecutionDevice device, int tileSize, int overlap = DefaultOverlap)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentOutOfRangeException.ThrowIfLessThan(tileSize, 16);
        ArgumentOutOfRangeException.ThrowIfNegative(overlap);
        if (!info.IsAvailable)
        {
            throw new InvalidOperationException($"Upscaler '{info.Id}' is unavailable: {info.Problem}");
        }
        var session = new OnnxComponent(Path.Combine(info.Folder, UpscalerCatalog.GraphFile), device);
        try
        {
            return new LoadedUpscaler(info, session, tileSize, overlap);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The most pixels any pass of an upscale may produce: the project's image limit (<see cref="PngFiles.MaxPixels"/>),
    /// which the network's own output must respect too, not only the final size (×2 on a ×4 network runs ×4 first).
    /// </summary>
    public const long MaxPassPixels = PngFiles.MaxPixels;

    /// <summary>
    /// Why ×<paramref name="scale"/> of a <paramref name="width"/> × <paramref name="height"/> image cannot run on
    /// <paramref name="upscaler"/>, or null when it can: the network runs whole passes (×4 on a ×4 network for ×2,
    /// twice on a ×2 network for ×3), and every pass's output must stay within <see cref="MaxPassPixels"/>. Submitters
    /// (hires fix, the Upscale job, the command line) call this before queueing; <see cref="Upscale"/> refuses the same.
    /// </summary>
    public static string? SizeProblem(UpscalerInfo upscaler, int width, int height, double scale)
    {
        ArgumentNullException.ThrowIfNull(upscaler);
        if (!upscaler.IsAvailable)
        {
            return $"Upscaler '{upscaler.Id}' is unavailable: {upscaler.Problem}";
        }
        if (width < 1 || height < 1)
        {
            return $"An image of {width}×{height} pixels cannot be upscaled.";
        }
        if (!double.IsFinite(scale) || scale <= 0)
        {
            return $"The scale must be a positive number, not {scale}.";
        }
        var (finalWidth, finalHeight) = ((long)Math.Round(width * scale), (long)Math.Round(height * scale));
        var limit = $"the limit is {MaxPassPixels / (1024 * 1024)} megapixels";
        if (Math.Max(1, finalWidth) * Math.Max(1, finalHeight) > MaxPassPixels)
        {
            return $"{width}×{height} upscaled by {scale:0.##} would be {finalWidth}×{finalHeight}; {limit}.";
        }
        var passes = PassesFor(scale, upscaler.Scale);
        var (passWidth, passHeight) = ((long)width, (long)height);
        for (var pass = 1; pass <= passes; pass++)
        {
            (passWidth, passHeight) = (passWidth * upscaler.Scale, passHeight * upscaler.Scale);
            if (passWidth * passHeight > MaxPassPixels)
            {
                var runs = passes == 1 ? "" : $" (pass {pass} of {passes})";
                return $"Upscaler '{upscaler.Id}' enlarges ×{upscaler.Scale} per run, so {width}×{height} upscaled by {scale:0.##} "
                    + $"makes a {passWidth}×{passHeight} image{runs} before it is resized to {finalWidth}×{finalHeight}; {limit}. "
                    + "Use a smaller image or scale, or an upscaler whose own scale is closer to the one you want.";
            }
        }
        return null;
    }

    /// <summary>
    /// <paramref name="image"/> enlarged <paramref name="scale"/> times on each side. The network runs as many
    /// times as it takes to reach the scale (twice for ×4 from a ×2 network), then a Lanczos resample gives the
    /// exact size (×2 from a ×4 network is ×4, then down to half).
    /// </summary>
    /// <exception cref="ArgumentException">A pass would exceed <see cref="MaxPassPixels"/> (<see cref="SizeProblem"/> says why).</exception>
    /// <exception cref="OperationCanceledException">Cancelled, between tiles or inside a run.</exception>
    public RgbImage Upscale(RgbImage image, double scale, IProgress<UpscaleProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!double.IsFinite(scale) || scale <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be a positive number.");
        }
        if (SizeProblem(Info, image.Width, image.Height, scale) is { } problem)
        {
            throw new ArgumentException(problem, nameof(image));
        }
        var width = Math.Max(1, (int)Math.Round(image.Width * scale));
        var height = Math.Max(1, (int)Math.Round(image.Height * scale));
        var passes = PassesFor(scale, Info.Scale);
        var tiles = 0;
        var (passWidth, passHeight) = (image.Width, image.Height);
        for (var pass = 0; pass < passes; pass++)
        {
            tiles += TileLayout.Starts(passWidth, TileWidth, Overlap).Count * TileLayout.Starts(passHeight, TileHeight, Overlap).Count;
            (passWidth, passHeight) = (passWidth * Info.Scale, passHeight * Info.Scale);
        }
        var done = 0;
        void TileDone() => progress?.Report(new UpscaleProgress(++done, tiles));
        var enlarged = image;
        for (var pass = 0; pass < passes; pass++)
        {
            enlarged = RunTiled(enlarged, TileDone, cancellationToken);
        }
        return ImageOps.Resize(enlarged, width, height);
    }

    /// <summary>How many runs of a ×<paramref name="netScale"/> network reach at least ×<paramref name="scale"/> (at least one).</summary>
    internal static int PassesFor(double scale, int netScale)
    {
        if (netScale <= 1)
        {
            return 1;
        }
        var passes = 1;
        for (double reached = netScale; reached < scale - 1e-9; reached *= netScale)
        {
            passes++;
        }
        return passes;
    }

    /// <summary>
    /// One pass of the network over <paramref name="image"/>, tile by tile, blended one row of tiles at a time:
    /// output rows above the next row of tiles get no more contributions, so they are written out as bytes and the
    /// float sums only ever cover one row of tiles (the band), not the whole output.
    /// </summary>
    private RgbImage RunTiled(RgbImage image, Action tileDone, CancellationToken cancellationToken)
    {
        var s = Info.Scale;
        var (outWidth, outHeight) = (checked(image.Width * s), checked(image.Height * s));
        var xs = TileLayout.Starts(image.Width, TileWidth, Overlap);
        var ys = TileLayout.Starts(image.Height, TileHeight, Overlap);
        var tileWidth = _fixedWidth ?? Math.Min(TileWidth, image.Width);
        var tileHeight = _fixedHeight ?? Math.Min(TileHeight, image.Height);
        var pixels = new byte[checked(3 * outWidth * outHeight)];
        // Output rows [bandTop, bandTop + bandRows): every row a row of tiles touches.
        var bandRows = Math.Min(checked(tileHeight * s), outHeight);
        var sum = new float[checked(3 * outWidth * bandRows)];
        var weights = new float[checked(outWidth * bandRows)];
        var columnWeights = new float[outWidth];
        var rowWeights = new float[outHeight];
        var bandTop = 0;
        using var runOptions = new RunOptions();
        using var cancel = cancellationToken.Register(() => runOptions.Terminate = true);
        using var binding = _session.Bind([(_input, [1, 3, tileHeight, tileWidth])]);
        for (var row = 0; row < ys.Count; row++)
        {
            var top = ys[row] * s;
            ShiftBand(sum, weights, outWidth, top - bandTop);
            bandTop = top;
            TileLayout.Weights(ys, row, image.Height, s, rowWeights);
            for (var column = 0; column < xs.Count; column++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (x0, y0) = (xs[column], ys[row]);
                float[] values;
                try
                {
                    var output = binding.Run([ComponentInput.OfFloats(_input, TileTensor(image, x0, y0, tileWidth, tileHeight), 1, 3, tileHeight, tileWidth)], runOptions);
                    if (output.Shape[2] != (long)tileHeight * s || output.Shape[3] != (long)tileWidth * s || output.Values.Length != 3L * tileHeight * s * tileWidth * s)
                    {
                        throw new InvalidOperationException(
                            $"Upscaler '{Info.Id}' turned a {tileWidth}×{tileHeight} tile into {output.Shape[3]}×{output.Shape[2]}, not ×{s}.");
                    }
                    values = output.Values;
                }
                catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(cancellationToken);
                }
                TileLayout.Weights(xs, column, image.Width, s, columnWeights);
                Accumulate(values, x0 * s, y0 * s - bandTop, tileWidth * s, tileHeight * s, outWidth, Math.Min(bandRows, outHeight - bandTop),
                    columnWeights, rowWeights.AsSpan(bandTop), sum, weights);
                tileDone();
            }
            // Rows above the next row of tiles are final.
            var finished = row + 1 < ys.Count ? ys[row + 1] * s : outHeight;
            Blend(sum, weights, outWidth, finished - bandTop, pixels.AsSpan(bandTop * outWidth * 3));
        }
        return new RgbImage(outWidth, outHeight, pixels);
    }

    /// <summary>Moves the band's rows up by <paramref name="rows"/> (what the next row of tiles still adds to) and clears the rest.</summary>
    private static void ShiftBand(float[] sum, float[] weights, int width, int rows)
    {
        if (rows <= 0)
        {
            return;
        }
        var bandRows = weights.Length / width;
        var kept = Math.Max(0, bandRows - rows);
        Array.Copy(weights, rows * width, weights, 0, kept * width);
        Array.Clear(weights, kept * width, (bandRows - kept) * width);
        Array.Copy(sum, 3 * rows * width, sum, 0, 3 * kept * width);
        Array.Clear(sum, 3 * kept * width, 3 * (bandRows - kept) * width);
    }

    /// <summary>A [3, h, w] tensor in [0, 1] of the image from (x0, y0), edge pixels repeated past the image (fixed-size graphs on small images).</summary>
    private static float[] TileTensor(RgbImage image, int x0, int y0, int width, int height)
    {
        var plane = width * height;
        var tensor = new float[3 * plane];
        for (var y = 0; y < height; y++)
        {
            var sy = Math.Min(y0 + y, image.Height - 1);
            for (var x = 0; x < width; x++)
            {
                var source = (sy * image.Width + Math.Min(x0 + x, image.Width - 1)) * 3;
                var p = y * width + x;
                tensor[p] = image.Pixels[source] / 255f;
                tensor[plane + p] = image.Pixels[source + 1] / 255f;
                tensor[2 * plane + p] = image.Pixels[source + 2] / 255f;
            }
        }
        return tensor;
    }

    /// <summary>Adds a [3, h, w] tile at (<paramref name="ox"/>, <paramref name="oy"/>) of the band, weighted, into the band's interleaved sums.</summary>
    private static void Accumulate(float[] tile, int ox, int oy, int width, int height, int outWidth, int bandRows,
        float[] columnWeights, ReadOnlySpan<float> rowWeights, float[] sum, float[] weights)
    {
        var plane = width * height;
        for (var y = 0; y < height && oy + y < bandRows; y++)
        {
            var wy = rowWeights[oy + y];
            if (wy == 0)
            {
                continue;
            }
            for (var x = 0; x < width && ox + x < outWidth; x++)
            {
                var w = wy * columnWeights[ox + x];
                if (w == 0)
                {
                    continue;
                }
                var target = (oy + y) * outWidth + ox + x;
                var source = y * width + x;
                weights[target] += w;
                sum[3 * target] += w * tile[source];
                sum[3 * target + 1] += w * tile[plane + source];
                sum[3 * target + 2] += w * tile[2 * plane + source];
            }
        }
    }

    /// <summary>The band's first <paramref name="rows"/> rows, divided by their weights, as RGB bytes.</summary>
    private static void Blend(float[] sum, float[] weights, int width, int rows, Span<byte> pixels)
    {
        var count = rows * width;
        for (var p = 0; p < count; p++)
        {
            var w = weights[p];
            for (var c = 0; c < 3; c++)
            {
                pixels[p * 3 + c] = ToByte(sum[p * 3 + c] / w);
            }
        }
    }

    private static byte ToByte(float unit) => (byte)Math.Round(Math.Clamp(unit, 0f, 1f) * 255f, MidpointRounding.AwayFromZero);

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}
