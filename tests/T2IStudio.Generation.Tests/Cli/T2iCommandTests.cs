using System.Text.Json;
using T2IStudio.Cli;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Tests.Imaging;
using T2IStudio.Generation.Tests.Pipelines;

namespace T2IStudio.Generation.Tests.Cli;

public sealed class T2iCommandTests : IDisposable
{
    private readonly FixtureModel _model = new(id: "tiny");
    private readonly string _out = Directory.CreateTempSubdirectory("t2i-cli-").FullName;

    [Fact]
    public async Task Generate_writes_a_png_with_metadata_that_inspect_reads_back()
    {
        var file = Path.Combine(_out, "cat.png");
        var (code, stdout, stderr) = await Run("generate", "--model", _model.Folder, "--prompt", "a red circle", "--negative", "blurry",
            "--steps", "4", "--cfg", "5", "--seed", "77", "--width", "64", "--height", "64", "--scheduler", "ddim", "--out", file);
        Assert.True(code == 0, stderr);
        Assert.Contains("seed 77", stdout, StringComparison.Ordinal);
        Assert.Contains("step 4/4", stderr, StringComparison.Ordinal);

        using (var stream = File.OpenRead(file))
        {
            var image = PngFiles.Decode(stream);
            Assert.Equal((64, 64), (image.Width, image.Height));
        }
        var (inspectCode, parameters, _) = await Run("inspect", file);
        Assert.Equal(0, inspectCode);
        Assert.StartsWith("a red circle\nNegative prompt: blurry\nSteps: 4, Sampler: DDIM, Schedule type: Automatic, CFG scale: 5, Seed: 77, Size: 64x64, Model hash: ", parameters.Replace("\r", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("Model: tiny", parameters, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_command_twice_writes_identical_files()
    {
        string[] args = ["generate", "--model", _model.Folder, "--prompt", "x", "--steps", "3", "--seed", "5", "--width", "64", "--height", "64", "--out"];
        await Run([.. args, Path.Combine(_out, "a.png")]);
        await Run([.. args, Path.Combine(_out, "b.png")]);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_out, "a.png")), File.ReadAllBytes(Path.Combine(_out, "b.png")));
    }

    [Fact]
    public async Task Generate_inpaints_with_init_and_mask()
    {
        var init = Path.Combine(_out, "init.png");
        var mask = Path.Combine(_out, "mask.png");
        var source = PipelineTests.Blocks(64, 64);
        File.WriteAllBytes(init, PngFiles.Encode(source, null, null));
        var square = MaskTests.Square(64, 16, 16, 16);
        var maskRgb = new RgbImage(64, 64, [.. square.Values.SelectMany(v => new[] { v, v, v })]);
        File.WriteAllBytes(mask, PngFiles.Encode(maskRgb, null, null));
        var file = Path.Combine(_out, "inpainted.png");

        var (code, _, stderr) = await Run("generate", "--model", _model.Folder, "--prompt", "blue", "--steps", "3", "--seed", "1",
            "--init", init, "--mask", mask, "--mask-blur", "0", "--out", file);

        Assert.True(code == 0, stderr);
        using var stream = File.OpenRead(file);
        var result = PngFiles.Decode(stream);
        Assert.Equal(source.Pixels[..(64 * 3 * 8)], result.Pixels[..(64 * 3 * 8)]); // top rows: unmasked, unchanged
        Assert.NotEqual(source.Pixels[(24 * 64 + 24) * 3], result.Pixels[(24 * 64 + 24) * 3]);
    }

    [Fact]
    public async Task Tokenize_prints_transformers_ids_as_json()
    {
        var (code, stdout, _) = await Run("tokenize", "a photo of a cat", "--model", _model.Folder);
        Assert.Equal(0, code);
        int[] expected = [49406, 320, 1125, 539, 320, 2368, 49407];
        Assert.Equal(expected, JsonSerializer.Deserialize<int[]>(stdout)!);
        var (_, padded, _) = await Run("tokenize", "a photo of a cat", "--model", _model.Folder, "--max-length", "77");
        Assert.Equal(77, JsonSerializer.Deserialize<int[]>(padded)!.Length);
    }

    [Fact]
    public async Task Models_lists_family_status_and_reason()
    {
        Directory.CreateDirectory(Path.Combine(_model.Root, "broken", "unet"));
        var (code, stdout, _) = await Run("models", "--root", _model.Root);
        Assert.Equal(0, code);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("broken", lines[0], StringComparison.Ordinal);
        Assert.Contains("unavailable", lines[0], StringComparison.Ordinal);
        Assert.Contains("missing model_index.json", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("tiny", lines[1], StringComparison.Ordinal);
        Assert.Contains("available", lines[1], StringComparison.Ordinal);
        Assert.Contains("Custom, epsilon", lines[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--steps", "many", "--steps must be a whole number")]
    [InlineData("--scheduler", "warp", "--scheduler 'warp' is not one of")]
    [InlineData("--width", "60", "Width must be a multiple of 8")]
    [InlineData("--device", "tpu", "--device must be auto, cuda or cpu")]
    [InlineData("--bogus", "1", "Unknown option --bogus")]
    public async Task Bad_arguments_exit_2_with_a_message_naming_them(string option, string value, string message)
    {
        var (code, _, stderr) = await Run("generate", "--model", _model.Folder, "--prompt", "x", "--out", Path.Combine(_out, "x.png"), option, value);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_out, "x.png")));
    }

    [Fact]
    public async Task Eval_refuses_an_unknown_device_like_generate_does()
    {
        var (code, _, stderr) = await Run("eval", "--model", _model.Folder, "--device", "tpu");
        Assert.Equal(2, code);
        Assert.Contains("--device must be auto, cuda or cpu, not 'tpu'.", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_runs_the_held_out_prompts_on_validation_seeds_with_another_sampler()
    {
        var folder = T2IStudio.Generation.Tests.EmbeddedModel.EmbeddedModel.Folder;
        var (code, stdout, _) = await Run("eval", "--model", folder, "--seed-offset", "1000", "--scheduler", "euler", "--steps", "4");
        Assert.Equal(0, code);
        Assert.Contains("56 held-out prompts, 4 steps, Euler, guidance 4, seeds +1000 (validation)", stdout, StringComparison.Ordinal);
        Assert.Matches(@"fully correct: \d+/56", stdout);

        var (bad, _, stderr) = await Run("eval", "--model", folder, "--scheduler", "heun");
        Assert.Equal(2, bad);
        Assert.Contains("--scheduler 'heun' is not one of", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_required_arguments_and_unknown_commands_exit_2_and_failures_exit_1()
    {
        Assert.Equal(2, (await Run("generate", "--model", _model.Folder, "--out", "x.png")).Code);
        Assert.Equal(2, (await Run("paint")).Code);
        Assert.Equal(1, (await Run("inspect", Path.Combine(_out, "missing.png"))).Code);
        Assert.Equal(0, (await Run("--help")).Code);
    }

    [Fact]
    public async Task Copy_database_needs_both_ends_and_refuses_a_missing_SQLite_file_in_a_sentence()
    {
        var (usage, _, usageErrors) = await Run("copy-database", "--from", "x.db");
        Assert.Equal(2, usage);
        Assert.StartsWith("t2i: --to is required.", usageErrors, StringComparison.Ordinal);

        var missing = Path.Combine(_out, "nowhere.db");
        var (code, _, stderr) = await Run("copy-database", "--from", missing, "--to", "Host=127.0.0.1;Database=unused");
        Assert.Equal(1, code);
        Assert.Equal($"t2i: There is no SQLite database at {missing}.", stderr.Trim());
        Assert.False(File.Exists(missing));
    }

    private static async Task<(int Code, string Stdout, string Stderr)> Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await T2iCommand.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public void Dispose()
    {
        _model.Dispose();
        try
        {
            Directory.Delete(_out, recursive: true);
        }
        catch (IOException)
        {
            // The OS temp cleaner takes it.
        }
    }
}
