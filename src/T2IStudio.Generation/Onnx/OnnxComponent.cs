using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace T2IStudio.Generation.Onnx;

/// <summary>An input to a model component: float data (latents, hidden states, timesteps) or integer ids.</summary>
/// <param name="Name">The graph input's name.</param>
/// <param name="Floats">Values for floating-point inputs (converted to float16 when the graph wants it).</param>
/// <param name="Integers">Values for integer inputs (converted to int32 or int64 as the graph declares).</param>
/// <param name="Shape">The tensor shape; empty for a scalar.</param>
public sealed record ComponentInput(string Name, float[]? Floats, long[]? Integers, long[] Shape)
{
    /// <summary>A floating-point input.</summary>
    public static ComponentInput OfFloats(string name, float[] values, params long[] shape) => new(name, values, null, shape);

    /// <summary>An integer input.</summary>
    public static ComponentInput OfIntegers(string name, long[] values, params long[] shape) => new(name, null, values, shape);
}

/// <summary>A component's first output as float, with its shape.</summary>
public sealed record ComponentOutput(float[] Values, long[] Shape);

/// <summary>
/// One ONNX graph of a model (text encoder, UNet, VAE), its session created once and reused. Inputs are
/// converted at this boundary to whatever each graph declares: ids as int32 or int64, timesteps as int64,
/// float or float16, [B] or scalar, fp16 or fp32 tensors; fp16 outputs come back as float.
/// </summary>
public sealed class OnnxComponent : IDisposable
{
    private readonly InferenceSession _session;

    /// <summary>Loads <paramref name="path"/> with <paramref name="options"/>.</summary>
    public OnnxComponent(string path, SessionOptions options)
    {
        _session = new InferenceSession(path, options);
        Inputs = _session.InputMetadata.ToDictionary(
            kv => kv.Key,
            kv => new ComponentInputInfo(kv.Key, kv.Value.ElementDataType, kv.Value.Dimensions));
        OutputNames = [.. _session.OutputMetadata.Keys];
    }

    /// <summary>Every input's name, element type and shape (−1 for a free dimension).</summary>
    public IReadOnlyDictionary<string, ComponentInputInfo> Inputs { get; }

    /// <summary>The graph's output names, in order.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>True when the graph has an input called <paramref name="name"/>.</summary>
    public bool HasInput(string name) => Inputs.ContainsKey(name);

    /// <summary>Runs the graph and returns the output named <paramref name="outputName"/> (default: the first).</summary>
    public ComponentOutput Run(IEnumerable<ComponentInput> inputs, string? outputName = null, RunOptions? runOptions = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            foreach (var input in inputs)
            {
                if (!Inputs.TryGetValue(input.Name, out var info))
                {
                    throw new ArgumentException($"The graph has no input '{input.Name}' (it has {string.Join(", ", Inputs.Keys)}).", nameof(inputs));
                }
                names.Add(input.Name);
                values.Add(CreateValue(input, info));
            }
            var output = outputName ?? OutputNames[0];
            using var ownedOptions = runOptions is null ? new RunOptions() : null;
            using var results = _session.Run(runOptions ?? ownedOptions!, names, values, [output]);
            return ReadFloat(results[0]);
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    private static OrtValue CreateValue(ComponentInput input, ComponentInputInfo info)
    {
        var shape = input.Shape;
        switch (info.ElementType)
        {
            case TensorElementType.Float:
                return OrtValue.CreateTensorValueFromMemory(RequireFloats(input), shape);
            case TensorElementType.Float16:
                var halves = RequireFloats(input).Select(v => (Half)v).ToArray();
                return OrtValue.CreateTensorValueFromMemory(MemoryMarshal.Cast<Half, Float16>(halves).ToArray(), shape);
            case TensorElementType.Double:
                return OrtValue.CreateTensorValueFromMemory(RequireFloats(input).Select(v => (double)v).ToArray(), shape);
            case TensorElementType.Int64:
                return OrtValue.CreateTensorValueFromMemory(input.Integers ?? RequireFloats(input).Select(v => (long)v).ToArray(), shape);
            case TensorElementType.Int32:
                return OrtValue.CreateTensorValueFromMemory((input.Integers ?? RequireFloats(input).Select(v => (long)v).ToArray()).Select(v => checked((int)v)).ToArray(), shape);
            default:
                throw new NotSupportedException($"Input '{info.Name}' has element type {info.ElementType}, which the engine does not feed.");
        }
    }

    private static float[] RequireFloats(ComponentInput input) =>
        input.Floats ?? input.Integers?.Select(v => (float)v).ToArray()
        ?? throw new ArgumentException($"Input '{input.Name}' has no values.", nameof(input));

    private static ComponentOutput ReadFloat(OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        var shape = info.Shape;
        float[] data = info.ElementDataType switch
        {
            TensorElementType.Float => value.GetTensorDataAsSpan<float>().ToArray(),
            TensorElementType.Float16 => ToFloats(MemoryMarshal.Cast<Float16, Half>(value.GetTensorDataAsSpan<Float16>())),
            TensorElementType.Double => value.GetTensorDataAsSpan<double>().ToArray().Select(v => (float)v).ToArray(),
            var other => throw new NotSupportedException($"Output element type {other} is not supported."),
        };
        return new ComponentOutput(data, shape);
    }

    private static float[] ToFloats(ReadOnlySpan<Half> halves)
    {
        var result = new float[halves.Length];
        for (var i = 0; i < halves.Length; i++)
        {
            result[i] = (float)halves[i];
        }
        return result;
    }
}

/// <summary>What a graph declares for one input.</summary>
/// <param name="Name">The input's name.</param>
/// <param name="ElementType">Its element type.</param>
/// <param name="Dimensions">Its shape; −1 marks a free (symbolic) dimension, an empty array a scalar.</param>
public sealed record ComponentInputInfo(string Name, TensorElementType ElementType, int[] Dimensions)
{
    /// <summary>True for a rank-0 input (some exports take the timestep as a scalar).</summary>
    public bool IsScalar => Dimensions.Length == 0;
}
