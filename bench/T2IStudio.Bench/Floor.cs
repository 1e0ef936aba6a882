using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Bench;

/// <summary>
/// What ONNX Runtime alone needs for one image: the same three sessions the pipeline runs, driven by a bare loop —
/// the text encoder once (both prompts in one call), the UNet <c>steps</c> times at the guided batch through one IO
/// binding whose buffers are allocated once (on the device under CUDA, as the resident loop keeps them), the VAE
/// decoder once. No scheduler, guidance, noise, copies or previews: the pipeline's time over this is its overhead.
/// </summary>
internal static class Floor
{
    /// <summary>Milliseconds for one floor run of <paramref name="steps"/> UNet calls at <paramref name="rows"/> rows.</summary>
    public static double Run(LoadedModel model, int size, int steps, int rows)
    {
        var traits = model.Traits;
        var side = size / traits.VaeScaleFactor;
        var clock = Stopwatch.StartNew();

        // Text encoder once, both rows (cond and uncond) in one call.
        var sequence = ClipTokenizer.SequenceLength;
        var ids = new long[2 * sequence];
        for (var r = 0; r < 2; r++)
        {
            ids[r * sequence] = 49406;
            for (var t = 1; t < sequence; t++)
            {
                ids[r * sequence + t] = 49407;
            }
        }
        var text = model.TextEncoder.Run([ComponentInput.OfIntegers("input_ids", ids, 2, sequence)]);
        if (model.SecondTextEncoder is { } second)
        {
            second.Run([ComponentInput.OfIntegers("input_ids", ids, 2, sequence)], "text_embeds");
        }

        // The UNet's constant inputs, bound once: the hidden states from the encoder (zeros where SDXL concatenates
        // two encoders' widths; their values do not change the work), SDXL's pooled text and size ids, LCM's guidance.
        var width = traits.TextWidth;
        var hidden = new float[rows * sequence * width];
        if (text.Values.Length == 2 * sequence * width)
        {
            for (var r = 0; r < rows; r++)
            {
                text.Values.AsSpan(r % 2 * sequence * width, sequence * width).CopyTo(hidden.AsSpan(r * sequence * width));
            }
        }
        var constants = new List<ComponentInput> { ComponentInput.OfFloats("encoder_hidden_states", hidden, rows, sequence, width) };
        foreach (var name in new[] { "text_embeds", "time_ids", "timestep_cond" })
        {
            if (model.Unet.Inputs.TryGetValue(name, out var info))
            {
                var dim = info.Dimensions[^1] > 0 ? info.Dimensions[^1] : 256;
                var values = new float[rows * dim];
                if (name == "time_ids")
                {
                    for (var r = 0; r < rows; r++)
                    {
                        float[] sizeIds = [size, size, 0, 0, size, size];
                        sizeIds.CopyTo(values, r * dim);
                    }
                }
                constants.Add(ComponentInput.OfFloats(name, values, rows, dim));
            }
        }
        var sampleInfo = model.Unet.Inputs["sample"];
        var timestepInfo = model.Unet.Inputs["timestep"];
        long[] sampleShape = [rows, traits.UnetInputChannels, side, side];
        long[] timestepShape = timestepInfo.IsScalar ? [] : [rows];
        using var binding = model.Unet.Bind(constants.Select(c => (c.Name, c.Shape)).Concat([("sample", sampleShape), ("timestep", timestepShape)]));
        constants.ForEach(binding.BindConstant);
        using var sample = model.Graphs.Allocate(sampleInfo.ElementType, sampleShape);
        using var output = model.Graphs.Allocate(model.Unet.OutputTypes[model.Unet.OutputNames[0]], [rows, traits.LatentChannels, side, side]);
        if (!model.Device.IsCuda)
        {
            // Values like a generation's (seeded Gaussian latents), not a constant: the UNet's arithmetic costs the same
            // for any values only while none of its activations are subnormal.
            if (sample.GetTensorTypeAndShape().ElementDataType == TensorElementType.Float)
            {
                new T2IStudio.Generation.Noise.GaussianNoise(1).Fill(sample.GetTensorMutableDataAsSpan<float>());
            }
            else
            {
                Fill(sample, 0.5f);
            }
        }
        using var timestep = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, timestepInfo.ElementType, timestepShape);
        binding.IoBinding.BindInput("sample", sample);
        binding.IoBinding.BindInput("timestep", timestep);
        binding.IoBinding.BindOutput(model.Unet.OutputNames[0], output);
        using var runOptions = new RunOptions();
        for (var i = 0; i < steps; i++)
        {
            SetTimestep(timestep, 999 - i * (1000 / Math.Max(1, steps)));
            binding.Session.RunWithBinding(runOptions, binding.IoBinding);
        }
        binding.IoBinding.SynchronizeBoundOutputs();

        // The VAE decoder once.
        var latents = new float[traits.LatentChannels * side * side];
        model.VaeDecoder.Run([ComponentInput.OfFloats("latent_sample", latents, 1, traits.LatentChannels, side, side)], runOptions: runOptions);
        return clock.Elapsed.TotalMilliseconds;
    }

    private static void Fill(OrtValue value, float v)
    {
        switch (value.GetTensorTypeAndShape().ElementDataType)
        {
            case TensorElementType.Float:
                value.GetTensorMutableDataAsSpan<float>().Fill(v);
                break;
            case TensorElementType.Float16:
                MemoryMarshal.Cast<Float16, Half>(value.GetTensorMutableDataAsSpan<Float16>()).Fill((Half)v);
                break;
        }
    }

    private static void SetTimestep(OrtValue value, double t)
    {
        switch (value.GetTensorTypeAndShape().ElementDataType)
        {
            case TensorElementType.Int64:
                value.GetTensorMutableDataAsSpan<long>().Fill((long)t);
                break;
            case TensorElementType.Int32:
                value.GetTensorMutableDataAsSpan<int>().Fill((int)t);
                break;
            case TensorElementType.Float:
                value.GetTensorMutableDataAsSpan<float>().Fill((float)t);
                break;
            case TensorElementType.Float16:
                MemoryMarshal.Cast<Float16, Half>(value.GetTensorMutableDataAsSpan<Float16>()).Fill((Half)t);
                break;
            case TensorElementType.Double:
                value.GetTensorMutableDataAsSpan<double>().Fill(t);
                break;
        }
    }
}
