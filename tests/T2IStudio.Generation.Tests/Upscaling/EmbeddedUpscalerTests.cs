using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Upscaling;

namespace T2IStudio.Generation.Tests.Upscaling;

/// <summary>The embedded ×4 upscaler committed under models/upscalers/ (trained by tools/upscaler/).</summary>
public sealed class EmbeddedUpscalerTests
{
    private const string Id = "t2istudio-tiny-x4";

    private static readonly string Models = Path.Combine(RepositoryRoot.Path, "models");

    private static string Folder => Path.Combine(Models, UpscalerCatalog.FolderName, Id);

    [Fact]
    public void The_catalog_lists_the_embedded_upscaler_at_times_four_and_it_is_at_most_five_megabytes()
    {
        var info = new UpscalerCatalog([Models]).Find(Id);

        Assert.NotNull(info);
        Assert.True(info.IsAvailable, info.Problem);
        Assert.Equal(4, info.Scale);
        Assert.Equal("T2I Studio tiny ×4", info.DisplayName);
        Assert.InRange(new FileInfo(Path.Combine(Folder, UpscalerCatalog.GraphFile)).Length, 1, 5_000_000);
    }

    [Fact]
    public void The_embedded_upscaler_beats_bicubic_on_psnr_and_edge_sharpness_over_the_held_out_renders()
    {
        var pairs = UpscalerEvaluation.ReadPairs(Path.Combine(Folder, UpscalerEvaluation.HeldOutFolder));
        using var upscaler = LoadedUpscaler.Load(UpscalerCatalog.Inspect(Folder), new ExecutionDevice(DevicePreference.Cpu));

        var ours = UpscalerEvaluation.Score(Id, pairs, (low, width, height) => upscaler.Upscale(low, 4));
        var bicubic = UpscalerEvaluation.Score("bicubic", pairs, UpscalerEvaluation.Bicubic);

        Assert.Equal(16, pairs.Count);
        Assert.All(pairs, p => Assert.Equal((p.Low.Width * 4, p.Low.Height * 4), (p.High.Width, p.High.Height)));
        Assert.True(ours.Psnr > bicubic.Psnr, $"upscaler {ours.Psnr:F2} dB, bicubic {bicubic.Psnr:F2} dB");
        Assert.True(ours.EdgeSharpness > bicubic.EdgeSharpness, $"upscaler {ours.EdgeSharpness:P0}, bicubic {bicubic.EdgeSharpness:P0}");
    }

    [Fact]
    public void In_tiles_the_embedded_upscaler_matches_its_untiled_run_within_one_step()
    {
        // Its receptive field (15 input px) is wider than a quarter of the 32-px overlap, so this is not exact
        // by construction; what reaches past it is small enough to vanish in rounding.
        var image = UpscalerFixtures.Picture(300, 260);
        using var whole = LoadedUpscaler.Load(UpscalerCatalog.Inspect(Folder), new ExecutionDevice(DevicePreference.Cpu), tileSize: 2048);
        using var tiled = LoadedUpscaler.Load(UpscalerCatalog.Inspect(Folder), new ExecutionDevice(DevicePreference.Cpu), tileSize: 128);
        var progress = new Recorded<UpscaleProgress>();

        var result = tiled.Upscale(image, 4, progress);

        Assert.Equal(9, progress.Reports.Count);
        Assert.True(UpscalerFixtures.MaxDifference(result, whole.Upscale(image, 4)) <= 1);
    }

    [Fact]
    public void Psnr_and_edge_sharpness_score_the_truth_itself_as_perfect_and_a_blur_as_worse()
    {
        var pair = UpscalerEvaluation.ReadPairs(Path.Combine(Folder, UpscalerEvaluation.HeldOutFolder), 1).Single();
        var blurred = UpscalerEvaluation.Bicubic(pair.Low, pair.High.Width, pair.High.Height);

        Assert.Equal(100, UpscalerEvaluation.Psnr(pair.High, pair.High));
        Assert.Equal(1.0, UpscalerEvaluation.EdgeSharpness(pair.High, pair.High), 9);
        Assert.InRange(UpscalerEvaluation.Psnr(blurred, pair.High), 10, 60);
        Assert.InRange(UpscalerEvaluation.EdgeSharpness(blurred, pair.High), 0.05, 0.95);
    }
}
