namespace T2IStudio.Generation.Upscaling;

/// <summary>
/// Where overlapping tiles go along one side of an image, and how much each contributes to each output pixel.
/// </summary>
/// <remarks>
/// Tiles have one size and are spread evenly, the first at 0 and the last ending at the image's edge, so every
/// run has the same shape (one session, one plan) and neighbours share at least the requested overlap. In the
/// shared span a tile's weight is 0 for its outer quarter (where padding at the tile's edge colours the
/// network's output), rises linearly across the middle half, and is 1 beyond: continuous, so no seam; and where
/// one tile's weight is 0 the other's is 1, so the blend equals the untiled run for networks whose receptive
/// field fits in a quarter of the overlap.
/// </remarks>
internal static class TileLayout
{
    /// <summary>Start of each tile of side <paramref name="tile"/> along <paramref name="length"/> pixels, sharing at least <paramref name="overlap"/>.</summary>
    public static IReadOnlyList<int> Starts(int length, int tile, int overlap)
    {
        if (length <= tile)
        {
            return [0];
        }
        var stride = Math.Max(1, tile - overlap);
        var count = (int)Math.Ceiling((double)(length - tile) / stride) + 1;
        var starts = new int[count];
        for (var i = 0; i < count; i++)
        {
            starts[i] = (int)Math.Round((double)i * (length - tile) / (count - 1));
        }
        return starts;
    }

    /// <summary>
    /// Fills <paramref name="weights"/> (one per output pixel along the side) with tile <paramref name="index"/>'s
    /// weight; output pixel X sits at input coordinate (X + ½) / <paramref name="scale"/>. The ramps follow the spans
    /// the tiles actually share (at least the overlap <see cref="Starts"/> was given, often more), so the overlap
    /// itself is not needed here.
    /// </summary>
    public static void Weights(IReadOnlyList<int> starts, int index, int length, int scale, float[] weights)
    {
        var tile = starts.Count == 1 ? length : TileSide(starts, length);
        var start = starts[index];
        var end = start + tile;
        // The span shared with each neighbour: [next start, this end) and [this start, previous end).
        var rampInLow = index > 0 ? starts[index] : double.NegativeInfinity;
        var rampInHigh = index > 0 ? starts[index - 1] + tile : double.NegativeInfinity;
        var rampOutLow = index < starts.Count - 1 ? starts[index + 1] : double.PositiveInfinity;
        var rampOutHigh = index < starts.Count - 1 ? end : double.PositiveInfinity;
        Array.Clear(weights);
        for (var x = start * scale; x < Math.Min(end * scale, weights.Length); x++)
        {
            var u = (x + 0.5) / scale;
            weights[x] = (float)(Rise(u, rampInLow, rampInHigh) * (1 - Rise(u, rampOutLow, rampOutHigh)));
        }
    }

    /// <summary>0 below the shared span's middle half, 1 above it, linear between.</summary>
    private static double Rise(double u, double low, double high)
    {
        if (double.IsInfinity(low))
        {
            return low < 0 ? 1 : 0;
        }
        var quarter = (high - low) / 4;
        return Math.Clamp((u - (low + quarter)) / (2 * quarter), 0, 1);
    }

    private static int TileSide(IReadOnlyList<int> starts, int length) => length - starts[^1];
}
