using T2IStudio.Generation.Models;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Tests.Pipelines;

namespace T2IStudio.Generation.Tests.Sdxl;

/// <summary>
/// An SDXL folder in Optimum's layout from the sdxl_* fixture graphs (tools/fixtures/make_fixtures.py): two text
/// encoders with their tokenizers (tokenizer_2 pads with "!" as SDXL's does), the UNet with text_embeds and
/// time_ids, the SD fixture VAE with SDXL's VAE config (scaling 0.13025, force_upcast, 1024 px).
/// </summary>
internal sealed class SdxlFixture : IDisposable
{
    /// <summary>DDIM over SDXL's training schedule (leading spacing, offset 1), for exact replays.</summary>
    public const string DdimConfig = FixtureModel.DdimConfig;

    /// <summary>SDXL-Turbo's scheduler_config.json (as published: Euler ancestral, trailing timesteps).</summary>
    public const string TurboConfig = """
        {"_class_name":"EulerAncestralDiscreteScheduler","beta_end":0.012,"beta_schedule":"scaled_linear","beta_start":0.00085,
         "interpolation_type":"linear","num_train_timesteps":1000,"prediction_type":"epsilon","steps_offset":1,
         "timestep_spacing":"trailing","trained_betas":null}
        """;

    /// <summary>SDXL's vae/config.json, the fields the engine reads.</summary>
    public const string VaeConfig = """
        {"_class_name":"AutoencoderKL","block_out_channels":[128,256,512,512],"force_upcast":true,
         "latent_channels":4,"sample_size":1024,"scaling_factor":0.13025}
        """;

    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    private static readonly string Tokenizer = Path.Combine(AppContext.BaseDirectory, "TestData", "clip-tokenizer");
    private readonly string _root = Directory.CreateTempSubdirectory("t2i-sdxl-").FullName;

    public SdxlFixture(
        string unet = "sdxl_unet.onnx",
        bool fp16 = false,
        string schedulerConfig = DdimConfig,
        bool forceZerosForEmptyPrompt = true,
        string? textEncoder2 = null,
        bool withTokenizer2 = true,
        string vaeDecoder = "vae_decoder.onnx",
        string vaeConfig = VaeConfig)
    {
        Folder = Path.Combine(_root, "sdxl");
        Put("text_encoder/model.onnx", fp16 ? "sdxl_text_encoder_fp16.onnx" : "sdxl_text_encoder.onnx");
        Put("text_encoder_2/model.onnx", textEncoder2 ?? (fp16 ? "sdxl_text_encoder_2_fp16.onnx" : "sdxl_text_encoder_2.onnx"));
        Put("unet/model.onnx", unet);
        Put("vae_decoder/model.onnx", vaeDecoder);
        Put("vae_encoder/model.onnx", "vae_encoder.onnx");
        File.WriteAllText(Path.Combine(Folder, "vae_decoder", "config.json"), vaeConfig);
        File.WriteAllText(Path.Combine(Folder, "vae_encoder", "config.json"), vaeConfig);
        CopyTokenizer("tokenizer", null);
        if (withTokenizer2)
        {
            CopyTokenizer("tokenizer_2", """{"bos_token":"<|startoftext|>","eos_token":"<|endoftext|>","pad_token":"!","model_max_length":77,"do_lower_case":true}""");
        }
        Directory.CreateDirectory(Path.Combine(Folder, "scheduler"));
        File.WriteAllText(Path.Combine(Folder, "scheduler", "scheduler_config.json"), schedulerConfig);
        File.WriteAllText(Path.Combine(Folder, "model_index.json"),
            $$"""{"_class_name":"ORTStableDiffusionXLPipeline","force_zeros_for_empty_prompt":{{(forceZerosForEmptyPrompt ? "true" : "false")}}}""");
    }

    public string Folder { get; }

    public ModelInfo Info => ModelCatalog.Inspect(Folder);

    public LoadedModel Load(bool? residentLatents = null) =>
        LoadedModel.Load(Info, new ExecutionDevice(DevicePreference.Cpu, residentLatents: residentLatents));

    public static StableDiffusionPipeline Pipeline(LoadedModel model) => new(model) { PreviewEvery = 0 };

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

    private void CopyTokenizer(string folder, string? config)
    {
        Directory.CreateDirectory(Path.Combine(Folder, folder));
        foreach (var file in new[] { "vocab.json", "merges.txt" })
        {
            File.Copy(Path.Combine(Tokenizer, file), Path.Combine(Folder, folder, file));
        }
        if (config is null)
        {
            File.Copy(Path.Combine(Tokenizer, "tokenizer_config.json"), Path.Combine(Folder, folder, "tokenizer_config.json"));
        }
        else
        {
            File.WriteAllText(Path.Combine(Folder, folder, "tokenizer_config.json"), config);
        }
    }

    private void Put(string relative, string fixture)
    {
        var target = Path.Combine(Folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(Path.Combine(Fixtures, fixture), target);
    }
}
