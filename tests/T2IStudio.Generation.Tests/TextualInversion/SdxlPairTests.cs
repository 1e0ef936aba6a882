using T2IStudio.Generation.Models;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Tests.Sdxl;
using T2IStudio.Generation.TextualInversion;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Tests.TextualInversion;

public sealed class SdxlPairTests
{
    private static readonly ExecutionDevice Cpu = new(DevicePreference.Cpu);

    [Fact]
    public void The_clip_g_vectors_reach_the_encoder_opened_as_text_encoder_2_and_clip_l_the_first()
    {
        using var root = new TempFolder();
        new SafeTensorsBuilder()
            .Add("clip_l", [1, 8], SafeTensorsBuilder.Vectors(1, 8))
            .Add("clip_g", [1, 8], SafeTensorsBuilder.Vectors(1, 8, offset: 700))
            .WriteTo(Path.Combine(root.File(EmbeddingLibrary.FolderName), "xl-style.safetensors"));
        var library = EmbeddingLibrary.Scan([root.Path]);
        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "ti_text_encoder_fp32.onnx");
        var tokenizer = ClipTokenizer.FromFolder(Path.Combine(AppContext.BaseDirectory, "TestData", "clip-tokenizer"));

        foreach (var (key, offset) in new[] { (TextEncoderKeys.Primary, 0f), (TextEncoderKeys.Secondary, 700f) })
        {
            var (encoder, fit) = TextEncoderSession.Open(fixture, key, library, Cpu, twoEncoders: true);
            using var _ = encoder;
            var ids = fit.Apply(tokenizer).EncodeForModel("xl-style");
            var hidden = encoder.Run([ComponentInput.OfIntegers("input_ids", [.. ids.Select(i => (long)i)], 1, ClipTokenizer.SequenceLength)]).Values;
            Assert.Equal(ClipTokenizer.VocabularySize, ids[1]);
            Assert.Equal(SafeTensorsBuilder.Vectors(1, 8, offset), hidden[8..16]);
        }
    }

    [Fact]
    public void An_sdxl_model_loads_with_embeddings_its_encoders_cannot_take_and_says_why_for_each_encoder()
    {
        using var sdxl = new SdxlFixture();
        new SafeTensorsBuilder().Add("clip_l", [1, 8], SafeTensorsBuilder.Vectors(1, 8)).Add("clip_g", [1, 8], SafeTensorsBuilder.Vectors(1, 8))
            .WriteTo(Path.Combine(Path.GetDirectoryName(sdxl.Folder)!, EmbeddingLibrary.FolderName, "xl-style.safetensors"));
        var library = EmbeddingLibrary.Scan([Path.GetDirectoryName(sdxl.Folder)!]);

        using var model = LoadedModel.Load(ModelCatalog.Inspect(sdxl.Folder), Cpu, library);

        // The fixture encoders compute from the ids without a token table: nothing to grow, so refused, and the model runs.
        Assert.Contains("No token table found", Assert.Single(model.Embeddings.Refused).Reason, StringComparison.Ordinal);
        Assert.Contains("No token table found", Assert.Single(model.SecondEmbeddings!.Refused).Reason, StringComparison.Ordinal);
        Assert.Throws<EmbeddingRefusedException>(() => model.SecondTokenizer!.Encode("an xl-style cat"));
    }
}
