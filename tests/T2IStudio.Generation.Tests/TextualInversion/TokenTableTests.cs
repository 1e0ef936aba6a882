using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Tests.EmbeddedModel;
using T2IStudio.Generation.TextualInversion;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Tests.TextualInversion;

/// <summary>
/// The trigger's vectors reach the text encoder's output: the fixture encoders are Optimum's token lookup alone
/// (last_hidden_state = Gather(table, input_ids), table[i, k] = (i + 1)(k + 1)·1e-5), so every output row shows
/// exactly which table row its position read.
/// </summary>
public sealed class TokenTableTests
{
    private const int Width = 8;
    private static readonly ExecutionDevice Cpu = new(DevicePreference.Cpu);
    private static readonly Lazy<ClipTokenizer> Plain = new(() => ClipTokenizer.FromFolder(Path.Combine(AppContext.BaseDirectory, "TestData", "clip-tokenizer")));

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    [Theory]
    [InlineData("ti_text_encoder_fp32.onnx", false)]
    [InlineData("ti_text_encoder_fp16_int32.onnx", true)]
    public void The_embedding_vectors_are_the_encoder_output_exactly_at_the_trigger_positions(string fixture, bool fp16)
    {
        using var root = new TempFolder();
        var folder = root.File(EmbeddingLibrary.FolderName);
        new SafeTensorsBuilder().Add("emb_params", [2, Width], SafeTensorsBuilder.Vectors(2, Width)).WriteTo(Path.Combine(folder, "kitten-style.safetensors"));
        new SafeTensorsBuilder().Add("<glow>", [3, Width], SafeTensorsBuilder.Vectors(3, Width, offset: 500), "F16").WriteTo(Path.Combine(folder, "glow", EmbeddingLibrary.DiffusersFileName));
        var library = EmbeddingLibrary.Scan([root.Path]);

        var (encoder, fit) = TextEncoderSession.Open(Fixture(fixture), TextEncoderKeys.Primary, library, Cpu);
        using var _ = encoder;
        var tokenizer = fit.Apply(Plain.Value);
        var ids = tokenizer.EncodeForModel("a Kitten-Style photo with glow and (glow:1.2)");
        var hidden = Run(encoder, ids);

        var vectors = new Dictionary<string, float[]>
        {
            ["kitten-style"] = SafeTensorsBuilder.Vectors(2, Width),
            ["glow"] = SafeTensorsBuilder.Vectors(3, Width, offset: 500),
        };
        var expected = new Dictionary<int, float[]>();
        foreach (var token in fit.Added)
        {
            for (var r = 0; r < token.Ids.Length; r++)
            {
                expected[token.Ids[r]] = vectors[token.Trigger][(r * Width)..((r + 1) * Width)];
            }
        }
        Assert.Equal(5, expected.Count);
        Assert.Equal(2 + 3 + 3, ids.Count(id => id >= ClipTokenizer.VocabularySize));
        for (var p = 0; p < ClipTokenizer.SequenceLength; p++)
        {
            var row = hidden[(p * Width)..((p + 1) * Width)];
            var want = expected.TryGetValue(ids[p], out var vector) ? vector : TableRow(ids[p], fp16);
            Assert.Equal(want, row);
        }
    }

    [Fact]
    public void Pooling_at_the_argmax_of_the_ids_still_reads_the_end_of_text_position_with_a_trigger_in_the_prompt()
    {
        // The fixture pools like CLIP with eos_token_id 2 (SDXL's text_encoder_2): pooled = hidden[argmax(ids)].
        using var root = new TempFolder();
        new SafeTensorsBuilder().Add("emb_params", [2, Width], SafeTensorsBuilder.Vectors(2, Width)).WriteTo(Path.Combine(root.File(EmbeddingLibrary.FolderName), "kitten-style.safetensors"));
        var (encoder, fit) = TextEncoderSession.Open(Fixture("ti_text_encoder_pooled.onnx"), TextEncoderKeys.Primary, EmbeddingLibrary.Scan([root.Path]), Cpu);
        using var _ = encoder;
        var ids = fit.Apply(Plain.Value).EncodeForModel("a kitten-style cat");

        var outputs = encoder.Run([ComponentInput.OfIntegers("input_ids", [.. ids.Select(i => (long)i)], 1, ClipTokenizer.SequenceLength)], ["last_hidden_state", "pooler_output"]);
        var hidden = outputs[0].Values;
        var pooled = outputs[1].Values;

        var eos = Array.IndexOf(ids, ClipTokenizer.EndOfText);
        var largest = Array.IndexOf(ids, ids.Max());
        Assert.True(ids[largest] >= ClipTokenizer.VocabularySize, "the trigger's ids are the largest: an unguarded argmax would pool there");
        Assert.NotEqual(eos, largest);
        Assert.Equal(hidden[(eos * Width)..((eos + 1) * Width)], pooled);
        Assert.NotEqual(hidden[(largest * Width)..((largest + 1) * Width)], pooled);
    }

    [Fact]
    public void An_embedding_of_another_width_is_refused_when_used_and_the_encoder_still_runs()
    {
        using var root = new TempFolder();
        var folder = root.File(EmbeddingLibrary.FolderName);
        new SafeTensorsBuilder().Add("emb_params", [1, 768], SafeTensorsBuilder.Vectors(1, 768)).WriteTo(Path.Combine(folder, "sd15-style.safetensors"));
        new SafeTensorsBuilder().Add("clip_l", [1, Width], SafeTensorsBuilder.Vectors(1, Width)).Add("clip_g", [1, 8], SafeTensorsBuilder.Vectors(1, 8)).WriteTo(Path.Combine(folder, "xl-style.safetensors"));
        var library = EmbeddingLibrary.Scan([root.Path]);

        var (encoder, fit) = TextEncoderSession.Open(Fixture("ti_text_encoder_fp32.onnx"), TextEncoderKeys.Primary, library, Cpu);
        using var _ = encoder;
        var tokenizer = fit.Apply(Plain.Value);

        Assert.Empty(fit.Added);
        var width = Assert.Throws<EmbeddingRefusedException>(() => tokenizer.Encode("a sd15-style cat"));
        Assert.Contains("768 wide", width.Message, StringComparison.Ordinal);
        Assert.Contains("takes 8", width.Message, StringComparison.Ordinal);
        Assert.Contains("SDXL embedding", Assert.Throws<EmbeddingRefusedException>(() => tokenizer.Encode("xl-style")).Message, StringComparison.Ordinal);
        var ids = tokenizer.EncodeForModel("a photo of a cat");
        var hidden = Run(encoder, ids);
        for (var p = 0; p < ClipTokenizer.SequenceLength; p++)
        {
            Assert.Equal(TableRow(ids[p], fp16: false), hidden[(p * Width)..((p + 1) * Width)]);
        }
    }

    [Fact]
    public void The_embedded_models_id_map_and_compact_table_grow_together()
    {
        var path = Path.Combine(EmbeddedModel.EmbeddedModel.Folder, "text_encoder", "model.onnx");
        var table = TokenTableRewriter.Find(File.ReadAllBytes(path));
        Assert.Equal(("embed.weight", 128, 49408L, "table"), (table.TableName, table.Width, table.IdCount, table.IdMapName));

        // The fixture holds the model's own row for "red": as a trigger it must give exactly what "red" gives.
        using var root = new TempFolder();
        File.Copy(Fixture("ti_tiny_red.safetensors"), Path.Combine(Directory.CreateDirectory(root.File(EmbeddingLibrary.FolderName)).FullName, "red-copy.safetensors"));
        var (encoder, fit) = TextEncoderSession.Open(path, TextEncoderKeys.Primary, EmbeddingLibrary.Scan([root.Path]), Cpu);
        using var _ = encoder;
        using var original = new OnnxComponent(path, Cpu);
        var tokenizer = fit.Apply(Plain.Value);

        var viaTrigger = Run(encoder, tokenizer.EncodeForModel("a small red-copy circle above a large blue square"));
        var viaWord = Run(encoder, tokenizer.EncodeForModel("a small red circle above a large blue square"));
        var unedited = Run(original, Plain.Value.EncodeForModel("a small red circle above a large blue square"));

        Assert.Equal([ClipTokenizer.VocabularySize], tokenizer.Encode("red-copy"));
        Assert.Equal(unedited, viaWord);
        Assert.Equal(unedited, viaTrigger);
        var other = Run(encoder, tokenizer.EncodeForModel("a small green circle above a large blue square"));
        Assert.NotEqual(unedited, other);
    }

    [Fact]
    public void Rows_of_the_wrong_width_are_refused_by_the_rewriter()
    {
        var bytes = File.ReadAllBytes(Fixture("ti_text_encoder_fp32.onnx"));
        Assert.Throws<InvalidDataException>(() => TokenTableRewriter.AppendRows(bytes, new float[Width + 1]));
        Assert.Throws<NotSupportedException>(() => TokenTableRewriter.Find(File.ReadAllBytes(Fixture("text_encoder_int64.onnx"))));
    }

    [Fact]
    public void An_encoder_without_a_token_table_opens_as_it_is_and_refuses_the_embeddings_with_the_reason()
    {
        using var root = new TempFolder();
        new SafeTensorsBuilder().Add("emb_params", [1, Width], SafeTensorsBuilder.Vectors(1, Width)).WriteTo(Path.Combine(root.File(EmbeddingLibrary.FolderName), "glow.safetensors"));

        var (encoder, fit) = TextEncoderSession.Open(Fixture("text_encoder_int64.onnx"), TextEncoderKeys.Primary, EmbeddingLibrary.Scan([root.Path]), Cpu);
        using var _ = encoder;

        Assert.Empty(fit.Added);
        Assert.Contains("No token table found", Assert.Single(fit.Refused).Reason, StringComparison.Ordinal);
        Assert.Equal(ClipTokenizer.SequenceLength * Width, Run(encoder, Plain.Value.EncodeForModel("a cat")).Length);
    }

    private static float[] Run(OnnxComponent encoder, int[] ids) =>
        encoder.Run([ComponentInput.OfIntegers("input_ids", [.. ids.Select(i => (long)i)], 1, ClipTokenizer.SequenceLength)]).Values;

    private static float[] TableRow(int id, bool fp16) =>
        [.. Enumerable.Range(1, Width).Select(k => (id + 1.0) * k * 1e-5).Select(v => fp16 ? (float)(Half)v : (float)v)];
}
