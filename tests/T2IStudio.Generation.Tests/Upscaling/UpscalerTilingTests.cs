using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Upscaling;
using static T2IStudio.Generation.Tests.Upscaling.UpscalerFixtures;

namespace T2IStudio.Generation.Tests.Upscaling;

public sealed class UpscalerTilingTests
{
    // 150 × 110 in 48-px tiles sharing at least 16 px: 5 × 3 tiles, every kind of border (inner, corner, edge).
    private const int Width = 150, Height = 110, Tile = 48, Overlap = 16;

    private static readonly Lazy<RgbImage> Untiled = new(() =>
    {
        using var whole = Load("x4");
        return whole.Upscale(Picture(Width, Height), 4);
    });

    [Fact]
    public void A_tiled_run_equals_the_untiled_run_everywhere_including_the_bands_around_tile_borders()
    {
        using var tiled = Load("x4", Tile, Overlap);
        var result = tiled.Upscale(Picture(Width, Height), 4);

        Assert.Equal((Width * 4, Height * 4), (result.Width, result.Height));
        Assert.True(MaxDifference(result, Untiled.Value) <= 1, "tiled and untiled differ by more than 1/255");
        var borders = Borders();
        Assert.NotEmpty(borders.Columns);
        Assert.NotEmpty(borders.Rows);
        Assert.True(MaxDifference(result, Untiled.Value, (x, y) => NearBorder(x, y, borders, 12)) <= 1, "a seam shows in the bands around tile borders");
    }

    [Fact]
    public void Tiles_without_blending_room_show_seams_that_the_measure_detects()
    {
        // Overlap 0: each tile's zero padding colours the pixels beside its border; that is what a seam is, and
        // the band measure above must see it, or it proves nothing.
        // 144 × 96 is exactly 3 × 2 tiles of 48, so the tiles meet without sharing a pixel.
        var image = Picture(144, 96);
        using var unblended = Load("x4", Tile, overlap: 0);
        using var whole = Load("x4");
        var result = unblended.Upscale(image, 4);
        var untiled = whole.Upscale(image, 4);
        var borders = (Columns: new[] { 192, 384 }, Rows: new[] { 192 });

        Assert.Equal([0, 48, 96], TileLayout.Starts(144, Tile, 0));
        Assert.True(MaxDifference(result, untiled, (x, y) => NearBorder(x, y, borders, 12)) > 8);
        Assert.True(MaxDifference(result, untiled, (x, y) => !NearBorder(x, y, borders, 16)) <= 1, "away from borders the tiles are exact");
    }

    [Fact]
    public void Progress_reports_once_per_tile_in_order()
    {
        using var tiled = Load("x4", Tile, Overlap);
        var progress = new Recorded<UpscaleProgress>();
        tiled.Upscale(Picture(Width, Height), 4, progress);

        Assert.Equal(Enumerable.Range(1, 15).Select(i => new UpscaleProgress(i, 15)), progress.Reports);
    }

    [Fact]
    public void Cancelling_stops_between_tiles()
    {
        using var tiled = Load("x4", Tile, Overlap);
        using var cancel = new CancellationTokenSource();
        var progress = new Recorded<UpscaleProgress>(p =>
        {
            if (p.Tile == 2)
            {
                cancel.Cancel();
            }
        });

        Assert.ThrowsAny<OperationCanceledException>(() => tiled.Upscale(Picture(Width, Height), 4, progress, cancel.Token));
        Assert.Equal([new UpscaleProgress(1, 15), new UpscaleProgress(2, 15)], progress.Reports);
    }

    [Fact]
    public void An_upscale_cancelled_before_it_starts_runs_no_tile()
    {
        using var tiled = Load("x4", Tile, Overlap);
        var progress = new Recorded<UpscaleProgress>();

        Assert.ThrowsAny<OperationCanceledException>(() => tiled.Upscale(Picture(Width, Height), 4, progress, new CancellationToken(canceled: true)));
        Assert.Empty(progress.Reports);
    }

    [Fact]
    public void Times_two_on_a_times_four_network_is_the_times_four_result_resampled_to_the_exact_size()
    {
        using var x4 = Load("x4");
        var half = x4.Upscale(Picture(75, 55), 2);

        Assert.Equal((150, 110), (half.Width, half.Height));
        var direct = ImageOps.Resize(x4.Upscale(Picture(75, 55), 4), 150, 110);
        Assert.Equal(direct.Pixels, half.Pixels);
    }

    [Fact]
    public void Times_four_on_a_times_two_network_runs_it_twice_with_progress_over_both_passes()
    {
        using var x2 = Load("x2", tileSize: 64, overlap: 16);
        var progress = new Recorded<UpscaleProgress>();
        var image = Picture(60, 40);
        var result = x2.Upscale(image, 4, progress);

        Assert.Equal((240, 160), (result.Width, result.Height));
        // Pass 1: 60 × 40 fits one tile; pass 2: 120 × 80 takes 3 × 2.
        Assert.Equal(Enumerable.Range(1, 7).Select(i => new UpscaleProgress(i, 7)), progress.Reports);
        using var whole = Load("x2");
        var twice = whole.Upscale(whole.Upscale(image, 2), 2);
        Assert.True(MaxDifference(result, twice) <= 1);
    }

    [Fact]
    public void A_float16_graph_upscales_like_its_float32_original()
    {
        using var half = Load("x4-fp16", Tile, Overlap);
        var result = half.Upscale(Picture(Width, Height), 4);

        Assert.Equal((Width * 4, Height * 4), (result.Width, result.Height));
        // The same weights rounded to float16: within a few steps of the float32 graph, not equal.
        Assert.InRange(MaxDifference(result, Untiled.Value), 0, 4);
    }

    [Fact]
    public void A_fixed_size_graph_runs_in_tiles_of_its_own_size_and_matches_the_free_size_graph()
    {
        using var fixedSize = Load("x4-fixed", tileSize: 96, overlap: Overlap);
        Assert.Equal((32, 32), (fixedSize.TileWidth, fixedSize.TileHeight));
        var progress = new Recorded<UpscaleProgress>();
        var result = fixedSize.Upscale(Picture(Width, Height), 4, progress);

        Assert.Equal((Width * 4, Height * 4), (result.Width, result.Height));
        Assert.Equal(9 * 6, progress.Reports.Count); // 150 in 32s sharing ≥ 16: 9 columns; 110: 6 rows
        Assert.True(MaxDifference(result, Untiled.Value) <= 1);
    }

    [Fact]
    public void A_fixed_size_graph_takes_an_image_smaller_than_its_input_by_repeating_edge_pixels()
    {
        using var fixedSize = Load("x4-fixed");
        using var free = Load("x4");
        var image = Picture(20, 12);
        var result = fixedSize.Upscale(image, 4);

        Assert.Equal((80, 48), (result.Width, result.Height));
        // Left of and above the padding (receptive radius 3 input px) both graphs see the same pixels.
        Assert.True(MaxDifference(result, free.Upscale(image, 4), (x, y) => x < 4 * 16 && y < 4 * 8) <= 1);
    }

    [Theory]
    [InlineData(100, 192, 32, new[] { 0 })]
    [InlineData(192, 192, 32, new[] { 0 })]
    [InlineData(193, 192, 32, new[] { 0, 1 })]
    [InlineData(150, 48, 16, new[] { 0, 26, 51, 76, 102 })]
    public void Tiles_are_spread_evenly_from_the_first_pixel_to_the_last(int length, int tile, int overlap, int[] starts)
    {
        Assert.Equal(starts, TileLayout.Starts(length, tile, overlap));
    }

    [Fact]
    public void Tile_weights_sum_to_one_and_are_zero_in_each_tiles_outer_quarter_of_an_overlap()
    {
        var starts = TileLayout.Starts(150, 48, 16);
        var sum = new double[600];
        var weights = new float[600];
        for (var i = 0; i < starts.Count; i++)
        {
            TileLayout.Weights(starts, i, 150, 4, weights);
            for (var x = 0; x < 600; x++)
            {
                sum[x] += weights[x];
            }
            if (i > 0)
            {
                // The shared span is at least 22 px here: its first quarter (5 input px and more) belongs to the previous tile.
                Assert.All(Enumerable.Range(starts[i] * 4, 20), x => Assert.Equal(0f, weights[x]));
            }
        }
        Assert.All(sum, s => Assert.Equal(1.0, s, 5));
    }

    private static (int[] Columns, int[] Rows) Borders()
    {
        // Every tile's start and end, in output pixels, other than the image's own edges.
        int[] Edges(int length) => [.. TileLayout.Starts(length, Tile, Overlap).SelectMany(s => new[] { s * 4, (s + Tile) * 4 }).Where(e => e > 0 && e < length * 4).Distinct()];
        return (Edges(Width), Edges(Height));
    }

    private static bool NearBorder(int x, int y, (int[] Columns, int[] Rows) borders, int band) =>
        borders.Columns.Any(c => Math.Abs(x - c) < band) || borders.Rows.Any(r => Math.Abs(y - r) < band);
}
