using T2IStudio.Cli;
using T2IStudio.Generation.Tests.Imaging;

namespace T2IStudio.Generation.Tests.Cli;

/// <summary><c>t2i inspect</c> reads text through the same intake as the web app.</summary>
public sealed class InspectIntakeTests
{
    [Fact]
    public async Task Inspect_prints_ztxt_and_itxt_parameters()
    {
        var (code, stdout, _) = await Run("inspect", Path.Combine(CorpusEntry.Folder, "png-itxt-parameters.png"));

        Assert.Equal(0, code);
        Assert.Equal("猫 🐱 iTXt\nSteps: 4", stdout.TrimEnd().ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Inspect_refuses_a_text_bomb_with_a_message_and_exit_code_1()
    {
        var (code, _, stderr) = await Run("inspect", Path.Combine(CorpusEntry.Folder, "bomb-ztxt-256mib.png"));

        Assert.Equal(1, code);
        Assert.StartsWith("t2i: This PNG carries a zTXt text chunk that inflates past 256 KB (a decompression bomb).", stderr, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await T2iCommand.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
