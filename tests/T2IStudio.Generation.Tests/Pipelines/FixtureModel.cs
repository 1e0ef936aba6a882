using T2IStudio.Generation.Models;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Pipelines;

namespace T2IStudio.Generation.Tests.Pipelines;

/// <summary>
/// Assembles a model folder in the SD layout from the fixture graphs (tools/fixtures/make_fixtures.py) and
/// the real CLIP tokenizer files, in a temporary directory.
/// </summary>
internal sealed class FixtureModel : IDisposable
{
    public const string DdimConfig = """
        {"_class_name":"DDIMScheduler","beta_start":0.00085,"beta_end":0.012,"beta_schedule":"scaled_linear",
         "num_train_timesteps":1000,"set_alpha_to_one":false,"steps_offset":1,"prediction_type":"epsilon"}
        """;

    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    private static readonly string Tokenizer = Path.Combine(AppContext.BaseDirectory, "TestData", "clip-tokenizer");
    private readonly string _root = Directory.CreateTempSubdirectory("t2i-model-").FullName;

    public FixtureModel(string unet = "unet_int64.onnx", string textEncoder = "text_encoder_int64.onnx", string? vaeEncoder = "vae_encoder.onnx", string schedulerConfig = DdimConfig, string id = "fixture")
    {
        Folder = Path.Combine(_root, id);
        Put("text_encoder/model.onnx", textEncoder);
        Put("unet/model.onnx", unet);
        Put("vae_decoder/model.onnx", "vae_decoder.onnx");
        if (vaeEncoder is not null)
        {
            Put("vae_encoder/model.onnx", vaeEncoder);
        }
        Directory.CreateDirectory(Path.Combine(Folder, "tokenizer"));
        foreach (var file in new[] { "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json" })
        {
            File.Copy(Path.Combine(Tokenizer, file), Path.Combine(Folder, "tokenizer", file));
        }
        Directory.CreateDirectory(Path.Combine(Folder, "scheduler"));
        File.WriteAllText(Path.Combine(Folder, "scheduler", "scheduler_config.json"), schedulerConfig);
        File.WriteAllText(Path.Combine(Folder, "model_index.json"), """{"_class_name":"OnnxStableDiffusionPipeline"}""");
    }

    public string Root => _root;

    public string Folder { get; }

    public ModelInfo Info => ModelCatalog.Inspect(Folder);

    public LoadedModel Load(int? shapeSessions = null, bool? residentLatents = null) =>
        LoadedModel.Load(Info, new ExecutionDevice(DevicePreference.Cpu, shapeSessions: shapeSessions, residentLatents: residentLatents));

    public static StableDiffusionPipeline Pipeline(LoadedModel model) => new(model);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // The OS temp cleaner takes it.
        }
    }

    private void Put(string relative, string fixture)
    {
        var target = Path.Combine(Folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(Path.Combine(Fixtures, fixture), target);
    }
}
