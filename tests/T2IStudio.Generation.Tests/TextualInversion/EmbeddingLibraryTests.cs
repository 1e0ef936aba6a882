using T2IStudio.Generation.TextualInversion;

namespace T2IStudio.Generation.Tests.TextualInversion;

public sealed class EmbeddingLibraryTests
{
    [Fact]
    public void Reads_a1111_diffusers_and_sdxl_layouts_with_the_file_or_folder_name_as_trigger()
    {
        using var root = new TempFolder();
        var folder = root.File(EmbeddingLibrary.FolderName);
        new SafeTensorsBuilder().Add("emb_params", [2, 4], SafeTensorsBuilder.Vectors(2, 4)).WriteTo(Path.Combine(folder, "Emb-Params.safetensors"));
        new SafeTensorsBuilder().Add("string_to_param.*", [3, 4], SafeTensorsBuilder.Vectors(3, 4)).Add("string_to_token.*", [1], [265]).WriteTo(Path.Combine(folder, "legacy.safetensors"));
        new SafeTensorsBuilder().Add("<cat-toy>", [4], SafeTensorsBuilder.Vectors(1, 4)).WriteTo(Path.Combine(folder, "cat-toy", EmbeddingLibrary.DiffusersFileName));
        new SafeTensorsBuilder().Add("<style>", [1, 4], SafeTensorsBuilder.Vectors(1, 4), "F16").WriteTo(Path.Combine(folder, "style.safetensors"));
        new SafeTensorsBuilder().Add("clip_l", [2, 4], SafeTensorsBuilder.Vectors(2, 4)).Add("clip_g", [2, 6], SafeTensorsBuilder.Vectors(2, 6)).WriteTo(Path.Combine(folder, "xl.safetensors"));

        var library = EmbeddingLibrary.Scan([root.Path]);

        Assert.Empty(library.Problems);
        var byTrigger = library.Embeddings.ToDictionary(e => e.Trigger);
        Assert.Equal(["cat-toy", "emb-params", "legacy", "style", "xl"], byTrigger.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(("A1111", 2, 4), Describe(byTrigger["emb-params"]));
        Assert.Equal(("A1111", 3, 4), Describe(byTrigger["legacy"]));
        Assert.Equal(("diffusers", 1, 4), Describe(byTrigger["cat-toy"]));
        Assert.Equal(("diffusers", 1, 4), Describe(byTrigger["style"]));
        Assert.Equal(SafeTensorsBuilder.Vectors(2, 4), byTrigger["emb-params"].For(TextEncoderKeys.Primary)!.Values);
        var xl = byTrigger["xl"];
        Assert.True(xl.IsPair);
        Assert.Equal(4, xl.For(TextEncoderKeys.Primary)!.Width);
        Assert.Equal(6, xl.For(TextEncoderKeys.Secondary)!.Width);
        Assert.Equal(SafeTensorsBuilder.Vectors(2, 6), xl.For(TextEncoderKeys.Secondary)!.Values);
    }

    [Fact]
    public void Refuses_pickles_unknown_files_and_broken_embeddings_with_a_reason_and_keeps_the_rest()
    {
        using var root = new TempFolder();
        var folder = root.File(EmbeddingLibrary.FolderName);
        new SafeTensorsBuilder().Add("emb_params", [1, 4], SafeTensorsBuilder.Vectors(1, 4)).WriteTo(Path.Combine(folder, "good.safetensors"));
        File.WriteAllBytes(Path.Combine(folder, "pickled.pt"), [0x80, 0x02, (byte)'c', (byte)'o', (byte)'s']);
        File.WriteAllBytes(Path.Combine(folder, "learned_embeds.bin"), [0x80, 0x02]);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "hello");
        File.WriteAllBytes(Path.Combine(folder, "truncated.safetensors"), [200, 0, 0, 0, 0, 0, 0, 0, (byte)'{']);
        new SafeTensorsBuilder().Add("a", [1, 4], SafeTensorsBuilder.Vectors(1, 4)).Add("b", [1, 4], SafeTensorsBuilder.Vectors(1, 4)).WriteTo(Path.Combine(folder, "two.safetensors"));
        new SafeTensorsBuilder().Add("clip_l", [1, 4], SafeTensorsBuilder.Vectors(1, 4)).WriteTo(Path.Combine(folder, "half-pair.safetensors"));
        new SafeTensorsBuilder().Add("emb_params", [80, 4], SafeTensorsBuilder.Vectors(80, 4)).WriteTo(Path.Combine(folder, "long.safetensors"));
        Directory.CreateDirectory(Path.Combine(folder, "empty-folder"));
        new SafeTensorsBuilder().Add("emb_params", [1, 4], SafeTensorsBuilder.Vectors(1, 4)).WriteTo(Path.Combine(folder, "GOOD", EmbeddingLibrary.DiffusersFileName));

        var library = EmbeddingLibrary.Scan([root.Path]);

        Assert.Equal(["good"], library.Embeddings.Select(e => e.Trigger));
        var reasons = library.Problems.ToDictionary(p => Path.GetFileName(p.Path) == EmbeddingLibrary.DiffusersFileName ? Path.GetFileName(Path.GetDirectoryName(p.Path)!) : Path.GetFileName(p.Path), p => p.Reason);
        Assert.Contains("pickle", reasons["pickled.pt"], StringComparison.Ordinal);
        Assert.Contains("never loaded", reasons["learned_embeds.bin"], StringComparison.Ordinal);
        Assert.Contains("Not an embedding", reasons["notes.txt"], StringComparison.Ordinal);
        Assert.Contains("header length", reasons["truncated.safetensors"], StringComparison.Ordinal);
        Assert.Contains("No embedding layout", reasons["two.safetensors"], StringComparison.Ordinal);
        Assert.Contains("both clip_l and clip_g", reasons["half-pair.safetensors"], StringComparison.Ordinal);
        Assert.Contains("80 vectors", reasons["long.safetensors"], StringComparison.Ordinal);
        Assert.Contains("learned_embeds.safetensors", reasons["empty-folder"], StringComparison.Ordinal);
        Assert.Contains("already taken", reasons["good.safetensors"], StringComparison.Ordinal); // GOOD/ sorts first and took "good"
    }

    [Fact]
    public void Fit_gives_fitting_triggers_consecutive_ids_and_refuses_other_widths_and_families()
    {
        using var root = new TempFolder();
        var folder = root.File(EmbeddingLibrary.FolderName);
        new SafeTensorsBuilder().Add("emb_params", [2, 4], SafeTensorsBuilder.Vectors(2, 4)).WriteTo(Path.Combine(folder, "a.safetensors"));
        new SafeTensorsBuilder().Add("emb_params", [1, 768], SafeTensorsBuilder.Vectors(1, 768)).WriteTo(Path.Combine(folder, "b-sd15.safetensors"));
        new SafeTensorsBuilder().Add("emb_params", [3, 4], SafeTensorsBuilder.Vectors(3, 4, offset: 1000)).WriteTo(Path.Combine(folder, "c.safetensors"));
        new SafeTensorsBuilder().Add("clip_l", [1, 4], SafeTensorsBuilder.Vectors(1, 4)).Add("clip_g", [1, 6], SafeTensorsBuilder.Vectors(1, 6)).WriteTo(Path.Combine(folder, "d-xl.safetensors"));
        var library = EmbeddingLibrary.Scan([root.Path]);

        var fit = library.Fit(TextEncoderKeys.Primary, width: 4, firstId: 49408);

        Assert.Equal(["a:49408,49409", "c:49410,49411,49412"], fit.Added.Select(Describe));
        Assert.Equal(5, fit.RowCount);
        Assert.Equal([.. SafeTensorsBuilder.Vectors(2, 4), .. SafeTensorsBuilder.Vectors(3, 4, offset: 1000)], fit.Rows);
        var refused = fit.Refused.ToDictionary(r => r.Trigger, r => r.Reason);
        Assert.Contains("768 wide", refused["b-sd15"], StringComparison.Ordinal);
        Assert.Contains("takes 4", refused["b-sd15"], StringComparison.Ordinal);
        Assert.Contains("SDXL embedding", refused["d-xl"], StringComparison.Ordinal);

        var xlFirst = library.Fit(TextEncoderKeys.Primary, width: 4, firstId: 49408, twoEncoders: true);
        var xlSecond = library.Fit(TextEncoderKeys.Secondary, width: 6, firstId: 49408, twoEncoders: true);
        Assert.Equal(["d-xl:49408"], xlFirst.Added.Select(Describe));
        Assert.Equal(["d-xl:49408"], xlSecond.Added.Select(Describe));
        Assert.Equal(SafeTensorsBuilder.Vectors(1, 6), xlSecond.Rows);
        Assert.Contains("needs clip_l and clip_g", xlFirst.Refused.Single(r => r.Trigger == "a").Reason, StringComparison.Ordinal);
    }

    private static string Describe(T2IStudio.Generation.Tokenization.AddedToken t) => $"{t.Trigger}:{string.Join(',', t.Ids)}";

    private static (string, int, int) Describe(TextualInversionEmbedding e) => (e.Format, e.Count, e.For(TextEncoderKeys.Primary)!.Width);
}
