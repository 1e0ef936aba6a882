using System.Diagnostics;
using T2IStudio.Cli;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Tests.Pipelines;

namespace T2IStudio.Generation.Tests.Cli;

public sealed class UpscaleCommandTests : IDisposable
{
    private readonly FixtureModel _model = new(id: "tiny");
    private readonly string _out = Directory.CreateTempSubdirectory("t2i-upscale-").FullName;
    private readonly string _upscaler;

    public UpscaleCommandTests() => _upscaler = FixtureUpscaler.Put(_model.Root).Folder;

    [Fact]
    public async Task Upscale_enlarges_four_times_and_keeps_the_source_record_with_A1111s_extras_keys()
    {
        var source = Path.Combine(_out, "cat.png");
        var (generated, _, generateErrors) = await Run("generate", "--model", _model.Folder, "--prompt", "a red circle", "--steps", "3", "--seed", "7",
            "--width", "64", "--height", "64", "--out", source);
        Assert.True(generated == 0, generateErrors);
        var target = Path.Combine(_out, "cat-x4.png");

        var (code, stdout, stderr) = await Run("upscale", "--in", source, "--out", target, "--model", _upscaler);

        Assert.True(code == 0, stderr);
        Assert.Contains("64×64 → 256×256", stdout, StringComparison.Ordinal);
        RgbImage original, upscaled;
        using (var stream = File.OpenRead(source))
        {
            original = PngFiles.Decode(stream);
        }
        using (var stream = File.OpenRead(target))
        {
            upscaled = PngFiles.Decode(stream);
        }
        Assert.Equal(FixtureUpscaler.Nearest(original, 4).Pixels, upscaled.Pixels);
        using var text = File.OpenRead(target);
        var chunks = PngFiles.ReadText(text);
        var parameters = GenerationParameters.Parse(chunks.Parameters!);
        Assert.Equal("a red circle", parameters.Prompt);
        Assert.Equal("7", parameters["Seed"]);
        Assert.Equal("4", parameters["Postprocess upscale by"]);
        Assert.Equal(FixtureUpscaler.Id, parameters["Postprocess upscaler"]);
        var stored = GenerationMetadata.ReadStoredRequest(chunks.RequestJson)!;
        Assert.Equal((64, 64, 7UL), (stored.Width, stored.Height, stored.Seed));
        Assert.Equal(new UpscaleRecord { Upscaler = FixtureUpscaler.Id, Scale = 4, SourceModelHash = parameters["Model hash"] }, stored.Upscale);
    }

    [Fact]
    public async Task Scale_two_runs_the_x4_network_then_resizes_to_twice_the_size()
    {
        var source = Path.Combine(_out, "plain.png");
        File.WriteAllBytes(source, PngFiles.Encode(PipelineTests.Blocks(32, 16), null, null));
        var target = Path.Combine(_out, "plain-x2.png");

        var (code, _, stderr) = await Run("upscale", "--in", source, "--out", target, "--model", _upscaler, "--scale", "2");

        Assert.True(code == 0, stderr);
        using var stream = File.OpenRead(target);
        var image = PngFiles.Decode(stream);
        Assert.Equal((64, 32), (image.Width, image.Height));
        Assert.Contains("tile 1/1", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scale_two_of_a_large_image_on_an_x4_network_is_refused_for_its_oversized_pass()
    {
        // 2048 × 1024 ×2 is 4096 × 2048, within the limit; the ×4 network's own pass would be 8192 × 4096 (32 MP).
        var source = Path.Combine(_out, "wide.png");
        File.WriteAllBytes(source, PngFiles.Encode(new RgbImage(2048, 1024, new byte[2048 * 1024 * 3]), null, null));
        var target = Path.Combine(_out, "wide-x2.png");

        var (code, _, stderr) = await Run("upscale", "--in", source, "--out", target, "--model", _upscaler, "--scale", "2");

        Assert.Equal(2, code);
        Assert.Contains("makes a 8192×4096 image before it is resized to 4096×2048", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public async Task Bad_input_is_refused_with_a_message_and_no_output()
    {
        var notAnImage = Path.Combine(_out, "notes.png");
        File.WriteAllText(notAnImage, "this is text, not a picture");
        var target = Path.Combine(_out, "never.png");

        var (code, _, stderr) = await Run("upscale", "--in", notAnImage, "--out", target, "--model", _upscaler);
        Assert.Equal(2, code);
        Assert.Contains($"--in '{notAnImage}':", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(target));

        var (scaleCode, _, scaleErrors) = await Run("upscale", "--in", notAnImage, "--out", target, "--model", _upscaler, "--scale", "3");
        Assert.Equal(2, scaleCode);
        Assert.Contains("--scale must be 2 or 4, not 3.", scaleErrors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_with_hires_scale_writes_the_larger_image_and_the_hires_keys()
    {
        var file = Path.Combine(_out, "hires.png");

        var (code, _, stderr) = await Run("generate", "--model", _model.Folder, "--prompt", "a red circle", "--steps", "4", "--seed", "3",
            "--width", "64", "--height", "64", "--scheduler", "ddim", "--hires-scale", "4", "--hires-strength", "0.5", "--hires-upscaler", FixtureUpscaler.Id, "--out", file);

        Assert.True(code == 0, stderr);
        Assert.Contains("step 7/7", stderr, StringComparison.Ordinal); // 4 first-pass steps, the upscale, 2 second-pass steps at strength 0.5
        using var stream = File.OpenRead(file);
        var chunks = PngFiles.ReadText(stream);
        stream.Position = 0;
        var image = PngFiles.Decode(stream);
        Assert.Equal((256, 256), (image.Width, image.Height));
        var parameters = GenerationParameters.Parse(chunks.Parameters!);
        Assert.Equal("64x64", parameters["Size"]);
        Assert.Equal("0.5", parameters["Denoising strength"]);
        Assert.Equal("4", parameters["Hires upscale"]);
        Assert.Equal(FixtureUpscaler.Id, parameters["Hires upscaler"]);
    }

    [Theory]
    [InlineData(null, FixtureUpscaler.Id)] // as Create: the first available upscaler (the fixture beside the model)
    [InlineData("lanczos", "Lanczos")] // the plain resize
    public async Task Hires_fix_uses_the_first_upscaler_unless_told_lanczos(string? upscaler, string written)
    {
        var file = Path.Combine(_out, "hires-default.png");
        string[] chosen = upscaler is null ? [] : ["--hires-upscaler", upscaler];

        var (code, _, stderr) = await Run(["generate", "--model", _model.Folder, "--prompt", "a red circle", "--steps", "2", "--seed", "3",
            "--width", "64", "--height", "64", "--scheduler", "ddim", "--hires-scale", "2", .. chosen, "--out", file]);

        Assert.True(code == 0, stderr);
        using var stream = File.OpenRead(file);
        Assert.Equal(written, GenerationParameters.Parse(PngFiles.ReadText(stream).Parameters!)["Hires upscaler"]);
    }

    [Theory]
    [InlineData(new[] { "--hires-strength", "0.5" }, "--hires-strength and --hires-upscaler need --hires-scale X")]
    [InlineData(new[] { "--hires-scale", "5" }, "Hires fix: Upscale by must be more than 1 and at most 4.")]
    [InlineData(new[] { "--hires-scale", "2", "--hires-upscaler", "nowhere" }, "Hires fix: there is no upscaler 'nowhere'.")]
    public async Task Bad_hires_options_are_refused_before_any_work(string[] options, string message)
    {
        var file = Path.Combine(_out, "refused.png");
        var (code, _, stderr) = await Run(["generate", "--model", _model.Folder, "--prompt", "x", "--width", "64", "--height", "64", "--out", file, .. options]);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public void When_nothing_is_found_every_folder_looked_in_is_named()
    {
        var here = Path.Combine(_out, "here", "models");
        var beside = Path.Combine(_out, "bin", "models");
        Assert.Equal($"{here}, {beside}", T2iCommand.Looked([here, beside]));
        Assert.Equal($"{Path.Combine(here, "upscalers")}, {Path.Combine(beside, "upscalers")}", T2iCommand.Looked([here, beside], "upscalers"));
    }

    [Fact]
    public async Task The_built_t2i_finds_the_models_beside_itself_from_another_folder()
    {
        var t2i = Path.Combine(RepositoryRoot.Path, "artifacts", "bin", "T2IStudio.Cli", "debug", "t2i.dll");
        Assert.True(File.Exists(t2i), "build the CLI first");
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(t2i)!, "models", "t2istudio-tiny", "model_index.json")), "the build copies models/ beside t2i");
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = _out, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(t2i);
        info.ArgumentList.Add("models");
        using var process = Process.Start(info)!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("t2istudio-tiny", stdout, StringComparison.Ordinal);
        Assert.Contains("available", stdout, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
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
