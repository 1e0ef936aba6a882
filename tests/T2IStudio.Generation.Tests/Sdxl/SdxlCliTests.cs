using T2IStudio.Cli;

namespace T2IStudio.Generation.Tests.Sdxl;

public sealed class SdxlCliTests
{
    [Fact]
    public async Task Models_describes_an_sdxl_folder_with_its_native_size_and_recommended_settings()
    {
        using var fixture = new SdxlFixture();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await T2iCommand.RunAsync(["models", "--root", Path.GetDirectoryName(fixture.Folder)!], stdout, stderr);

        Assert.Equal(0, code);
        var line = Assert.Single(stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("available   SDXL, epsilon; 1024×1024, 20 steps, guidance 5", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_runs_an_sdxl_folder_from_the_command_line()
    {
        using var fixture = new SdxlFixture();
        var file = Path.Combine(Path.GetDirectoryName(fixture.Folder)!, "out.png");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await T2iCommand.RunAsync(
            ["generate", "--model", fixture.Folder, "--prompt", "a red circle", "--steps", "2", "--width", "64", "--height", "48", "--device", "cpu", "--out", file],
            stdout, stderr);

        Assert.True(code == 0, stderr.ToString());
        using var stream = File.OpenRead(file);
        var image = T2IStudio.Generation.Imaging.PngFiles.Decode(stream);
        Assert.Equal((64, 48), (image.Width, image.Height));
    }
}
