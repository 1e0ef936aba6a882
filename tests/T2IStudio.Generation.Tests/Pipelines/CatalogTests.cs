using Microsoft.ML.OnnxRuntime.Tensors;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Tests.Pipelines;

public sealed class CatalogTests
{
    [Fact]
    public void Reads_traits_from_the_graphs_and_configs()
    {
        using var model = new FixtureModel();
        var info = model.Info;
        Assert.True(info.IsAvailable, info.Problem);
        var traits = info.Traits!;
        Assert.Equal(ModelFamily.Custom, traits.Family);
        Assert.Equal(8, traits.TextWidth);
        Assert.Equal(4, traits.LatentChannels);
        Assert.Equal(4, traits.UnetInputChannels);
        Assert.Equal(8, traits.VaeScaleFactor);
        Assert.Equal(0.18215, traits.VaeScalingFactor);
        Assert.Equal(TensorElementType.Int64, traits.TimestepType);
        Assert.False(traits.TimestepIsScalar || traits.IsFloat16 || traits.IsLcm || traits.IsInpainting);
        Assert.Null(traits.FixedUnetBatch);
        Assert.Equal("latent_sample", traits.VaeEncoderOutput);
        Assert.Equal(PredictionType.Epsilon, info.Scheduler!.PredictionType);
        Assert.Equal(new ModelDefaults(), traits.Defaults); // no sample_size, no t2istudio_defaults: SD's
    }

    [Fact]
    public void Defaults_come_from_the_vae_config_and_model_index()
    {
        using var model = new FixtureModel();
        File.WriteAllText(Path.Combine(model.Folder, "vae_decoder", "config.json"), """{"scaling_factor":0.5,"block_out_channels":[1,2,3],"sample_size":128}""");
        File.WriteAllText(Path.Combine(model.Folder, "model_index.json"), """{"t2istudio_defaults":{"steps":30,"guidance":3.5,"scheduler":"dpm++2m-karras"}}""");
        var traits = model.Info.Traits!;
        Assert.Equal(4, traits.VaeScaleFactor);
        Assert.Equal(0.5, traits.VaeScalingFactor);
        Assert.Equal(new ModelDefaults { Width = 128, Height = 128, Steps = 30, Guidance = 3.5, Scheduler = SchedulerKind.DpmPlusPlus2MKarras }, traits.Defaults);
    }

    [Theory]
    [InlineData("unet_scalar.onnx", "scalar")]
    [InlineData("unet_fp16.onnx", "fp16")]
    [InlineData("unet_inpaint9.onnx", "inpainting")]
    [InlineData("unet_lcm.onnx", "lcm")]
    public void Detects_unet_variants(string unet, string kind)
    {
        using var model = new FixtureModel(unet);
        var traits = model.Info.Traits!;
        Assert.Equal(kind == "scalar", traits.TimestepIsScalar);
        Assert.Equal(kind == "fp16", traits.IsFloat16);
        Assert.Equal(kind == "inpainting", traits.IsInpainting);
        Assert.Equal(kind == "lcm", traits.IsLcm);
        if (kind == "inpainting")
        {
            Assert.Equal(9, traits.UnetInputChannels);
        }
    }

    [Fact]
    public void Reads_latent_parameters_encoders_and_int32_ids()
    {
        using var model = new FixtureModel(textEncoder: "text_encoder_int32.onnx", vaeEncoder: "vae_encoder_parameters.onnx");
        Assert.True(model.Info.IsAvailable, model.Info.Problem);
        Assert.Equal("latent_parameters", model.Info.Traits!.VaeEncoderOutput);
    }

    [Fact]
    public void Broken_folders_are_listed_as_unavailable_with_the_reason()
    {
        using var missing = new FixtureModel(id: "missing-unet");
        File.Delete(Path.Combine(missing.Folder, "unet", "model.onnx"));
        Assert.False(missing.Info.IsAvailable);
        Assert.Contains("unet/model.onnx", missing.Info.Problem, StringComparison.Ordinal);

        using var garbage = new FixtureModel(id: "garbage");
        File.WriteAllBytes(Path.Combine(garbage.Folder, "unet", "model.onnx"), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        Assert.False(garbage.Info.IsAvailable);
        Assert.False(string.IsNullOrEmpty(garbage.Info.Problem));

        using var swapped = new FixtureModel(unet: "vae_decoder.onnx", id: "swapped");
        Assert.False(swapped.Info.IsAvailable);
        Assert.Contains("unet lacks", swapped.Info.Problem, StringComparison.Ordinal);

        using var badConfig = new FixtureModel(schedulerConfig: """{"prediction_type":"sample"}""", id: "bad-config");
        Assert.False(badConfig.Info.IsAvailable);
        Assert.Contains("prediction_type", badConfig.Info.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Catalog_lists_every_model_folder_under_a_root_without_throwing()
    {
        using var good = new FixtureModel(id: "good");
        var badFolder = Path.Combine(good.Root, "half-copied");
        Directory.CreateDirectory(Path.Combine(badFolder, "unet"));
        var catalog = new ModelCatalog([good.Root]);
        var models = catalog.List();
        Assert.Equal(["good", "half-copied"], models.Select(m => m.Id));
        Assert.True(models[0].IsAvailable);
        Assert.False(models[1].IsAvailable);
        Assert.Contains("model_index.json", models[1].Problem, StringComparison.Ordinal);
        Assert.Null(catalog.Find("nope"));
    }

    [Fact]
    public void Device_auto_falls_back_to_the_cpu_with_the_reason_and_cuda_fails_loudly()
    {
        // Test outputs carry no CUDA provider, as on a machine without a GPU.
        var auto = new ExecutionDevice(DevicePreference.Auto).Active;
        Assert.False(auto.IsCuda);
        Assert.Equal("cpu", auto.Name);
        Assert.Contains("CUDA", auto.Reason, StringComparison.Ordinal);

        var cuda = new ExecutionDevice(DevicePreference.Cuda);
        var error = Assert.Throws<InvalidOperationException>(() => cuda.CreateOptions());
        Assert.Contains("Generation:Device is cuda", error.Message, StringComparison.Ordinal);

        Assert.Equal("cpu", new ExecutionDevice(DevicePreference.Cpu).Active.Name);
    }
}
