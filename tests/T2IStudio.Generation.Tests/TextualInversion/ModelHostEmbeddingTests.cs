using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Tests.Pipelines;
using T2IStudio.Generation.TextualInversion;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Tests.TextualInversion;

public sealed class ModelHostEmbeddingTests
{
    [Fact]
    public void The_prompt_editors_tokenizer_counts_fitting_triggers_and_the_model_loads_beside_broken_files()
    {
        using var fixture = new FixtureModel(textEncoder: "ti_text_encoder_fp32.onnx", id: "ti");
        var folder = Path.Combine(fixture.Root, EmbeddingLibrary.FolderName);
        new SafeTensorsBuilder().Add("emb_params", [3, 8], SafeTensorsBuilder.Vectors(3, 8)).WriteTo(Path.Combine(folder, "glow.safetensors"));
        new SafeTensorsBuilder().Add("emb_params", [2, 768], SafeTensorsBuilder.Vectors(2, 768)).WriteTo(Path.Combine(folder, "wide.safetensors"));
        File.WriteAllBytes(Path.Combine(folder, "pickled.pt"), [0x80, 0x02]);
        File.WriteAllBytes(Path.Combine(folder, "broken.safetensors"), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        using var host = new ModelHost(
            Options.Create(new GenerationOptions { ModelRoots = [fixture.Root], Device = DevicePreference.Cpu }),
            new HostingEnvironment { ContentRootPath = fixture.Root }, TimeProvider.System, NullLogger<ModelHost>.Instance);
        var plain = ClipTokenizer.FromFolder(Path.Combine(fixture.Folder, "tokenizer"));

        var counting = host.Tokenizer("ti");
        Assert.Equal(plain.CountTokens("a cat") + 3, counting.CountTokens("a glow cat"));
        Assert.Equal(plain.CountTokens("a wide cat"), counting.CountTokens("a wide cat")); // not this model's: plain words, never an error while typing
        Assert.Equal(["broken.safetensors", "pickled.pt"], host.Embeddings.Problems.Select(p => Path.GetFileName(p.Path)).Order(StringComparer.Ordinal));

        using var lease = host.Acquire("ti");
        Assert.Equal(["glow"], lease.Model.Embeddings.Added.Select(t => t.Trigger));
        Assert.Equal(counting.Encode("a glow cat"), lease.Model.Tokenizer.Encode("a glow cat"));
        var refused = Assert.Throws<EmbeddingRefusedException>(() => lease.Model.Tokenizer.Encode("a wide cat"));
        Assert.Contains("768 wide", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_counting_tokenizer_sees_embeddings_added_and_removed_after_it_was_made()
    {
        using var fixture = new FixtureModel(textEncoder: "ti_text_encoder_fp32.onnx", id: "ti");
        var folder = Path.Combine(fixture.Root, EmbeddingLibrary.FolderName);
        var time = new FakeTimeProvider();
        using var host = new ModelHost(
            Options.Create(new GenerationOptions { ModelRoots = [fixture.Root], Device = DevicePreference.Cpu }),
            new HostingEnvironment { ContentRootPath = fixture.Root }, time, NullLogger<ModelHost>.Instance);
        var plain = host.Tokenizer("ti").CountTokens("a glow cat");
        Assert.Equal(ClipTokenizer.FromFolder(Path.Combine(fixture.Folder, "tokenizer")).CountTokens("a glow cat"), plain);

        var glow = new SafeTensorsBuilder().Add("emb_params", [3, 8], SafeTensorsBuilder.Vectors(3, 8)).WriteTo(Path.Combine(folder, "glow.safetensors"));
        Assert.Equal(plain, host.Tokenizer("ti").CountTokens("a glow cat")); // looked at no more often than the interval
        time.Advance(ModelHost.EmbeddingCheckInterval);
        var withGlow = host.Tokenizer("ti").CountTokens("a glow cat");
        Assert.NotEqual(plain, withGlow);
        Assert.Equal(host.Tokenizer("ti").CountTokens("a cat") + 3, withGlow);

        File.Delete(glow);
        time.Advance(ModelHost.EmbeddingCheckInterval);
        Assert.Equal(plain, host.Tokenizer("ti").CountTokens("a glow cat"));
    }
}
