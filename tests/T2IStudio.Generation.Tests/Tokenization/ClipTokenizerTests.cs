using System.Text.Json;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Tests.Tokenization;

public sealed class ClipTokenizerTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "TestData", "clip-tokenizer");
    private static readonly Lazy<ClipTokenizer> Tokenizer = new(() => ClipTokenizer.FromFolder(Folder));

    public static TheoryData<string, int[], int[]> GoldenCases()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "golden.json")));
        var data = new TheoryData<string, int[], int[]>();
        var root = json.RootElement;
        foreach (var c in root.GetProperty("cases").EnumerateArray())
        {
            data.Add(c.GetProperty("prompt").GetString()!, Ids(c.GetProperty("ids")), Ids(c.GetProperty("ids77")));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void Reproduces_transformers_ids_for_the_golden_prompts(string prompt, int[] ids, int[] ids77)
    {
        var tokens = Tokenizer.Value.Encode(prompt);
        int[] framed = [ClipTokenizer.BeginOfText, .. tokens, ClipTokenizer.EndOfText];
        Assert.Equal(ids, framed);
        Assert.Equal(ids77, Tokenizer.Value.EncodeForModel(prompt));
    }

    [Fact]
    public void A_photo_of_a_cat_has_the_reference_ids()
    {
        int[] expected = [49406, 320, 1125, 539, 320, 2368, 49407];
        Assert.Equal(expected, Tokenizer.Value.EncodeForModel("a photo of a cat")[..7]);
    }

    private static int[] Ids(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
