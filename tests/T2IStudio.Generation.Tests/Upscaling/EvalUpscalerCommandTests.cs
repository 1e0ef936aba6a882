using T2IStudio.Cli;

namespace T2IStudio.Generation.Tests.Upscaling;

public sealed class EvalUpscalerCommandTests
{
    private static readonly string Folder = Path.Combine(RepositoryRoot.Path, "models", "upscalers", "t2istudio-tiny-x4");

    [Fact]
    public async Task Eval_upscaler_prints_psnr_and_edge_sharpness_for_the_upscaler_bicubic_and_lanczos()
    {
        var (code, stdout, _) = await Run("eval-upscaler", "--upscaler", Folder, "--count", "2");

        Assert.Equal(0, code);
        var rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("method", rows[0]);
        Assert.StartsWith("T2I Studio tiny ×4", rows[1]);
        Assert.StartsWith("bicubic", rows[2]);
        Assert.StartsWith("Lanczos-3", rows[3]);
        Assert.Contains("(2 pairs;", stdout);
    }

    [Fact]
    public async Task Eval_upscaler_names_where_it_looked_for_an_unknown_upscaler_and_exits_2()
    {
        var (code, _, stderr) = await Run("eval-upscaler", "--upscaler", "no-such-upscaler");

        Assert.Equal(2, code);
        Assert.Contains("--upscaler 'no-such-upscaler' is neither a folder nor an upscaler under", stderr);
    }

    [Fact]
    public async Task Eval_upscaler_refuses_an_upscaler_without_held_out_pairs()
    {
        var fixture = Path.Combine(UpscalerFixtures.Root, "upscalers", "x4");
        var (code, _, stderr) = await Run("eval-upscaler", "--upscaler", fixture);

        Assert.Equal(2, code);
        Assert.Contains("has no held-out/ folder", stderr);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await T2iCommand.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
