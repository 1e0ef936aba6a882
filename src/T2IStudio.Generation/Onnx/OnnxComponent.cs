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
/// One ONNX graph of a model (text encoder, UNet, VAE). Inputs are converted at this boundary to whatever
/// each graph declares: ids as int32 or int64, timesteps as int64, float or float16, [B] or scalar, fp16 or
/// fp32 tensors; fp16 outputs come back as float. Every run goes through an <see cref="OrtIoBinding"/>
/// (<see cref="Bind"/>): inputs that stay the same for a whole generation are bound once, which on CUDA
/// copies them to the device once and keeps them there.
/// </summary>
/// <remarks>
/// The session with free dimensions is created once and reused. When the device keeps shape sessions
/// (<see cref="ExecutionDevice.ShapeSessions"/>), a run's symbolic dimensions (batch, height, width, …)
/// are fixed in a session made for those sizes (<see cref="SessionOptions.AddFreeDimensionOverrideByName"/>),
/// so ONNX Runtime plans memory and picks kernels once per size; the most recently used sizes are kept.
/// Not thread-safe: one worker per device runs one generation at a time.
/// </remarks>
public sealed class OnnxComponent : IDisposable
{
    private readonly string _path;
    private readonly byte[]? _model; // a graph rewritten in memory (an fp16 VAE upcast to fp32); null: read from _path
    private readonly ExecutionDevice _device;
    private readonly InferenceSession _session;
    private readonly LinkedList<ShapeSession> _shaped = new(); // most recently used first

    /// <summary>Loads <paramref name="path"/> on <paramref name="device"/>.</summary>
    public OnnxComponent(string path, ExecutionDevice device)
        : this(path, null, device)
    {
    }

    /// <summary>Loads the graph in <paramref name="model"/> (rewritten from <paramref name="path"/>) on <paramref name="device"/>.</summary>
    public OnnxComponent(string path, byte[]? model, ExecutionDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        _path = path;
        _model = model;
        _device = device;
        using (var options = device.CreateOptions())
        {
            _session = CreateSession(options);
        }
        Inputs = _session.InputMetadata.ToDictionary(
            kv => kv.Key,
            kv => new ComponentInputInfo(kv.Key, kv.Value.ElementDataType, kv.Value.Dimensions, kv.Value.SymbolicDimensions));
        OutputNames = [.. _session.OutputMetadata.Keys];
        OutputTypes = _session.OutputMetadata.ToDictionary(kv => kv.Key, kv => kv.Value.ElementDataType);
    }

    /// <summary>Every input's name, element type and shape (−1 for a free dimension).</summary>
    public IReadOnlyDictionary<string, ComponentInputInfo> Inputs { get; }

    /// <summary>The graph's output names, in order.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>Each output's element type.</summary>
    public IReadOnlyDictionary<string, TensorElementType> OutputTypes { get; }

    /// <summary>The sizes that currently have a session with their free dimensions fixed, most recently used first ("batch=2,height=16,…").</summary>
    public IReadOnlyList<string> FixedShapes => [.. _shaped.Select(entry => entry.Key)];

    /// <summary>How many sessions with fixed free dimensions have been created (each loads the graph).</summary>
    public int ShapeSessionsCreated { get; private set; }

    /// <summary>True when the graph has an input called <paramref name="name"/>.</summary>
    public bool HasInput(string name) => Inputs.ContainsKey(name);

    /// <summary>Runs the graph once and returns the output named <paramref name="outputName"/> (default: the first).</summary>
    public ComponentOutput Run(IReadOnlyList<ComponentInput> inputs, string? outputName = null, RunOptions? runOptions = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var binding = Bind(inputs.Select(input => (input.Name, input.Shape)), outputName);
        return binding.Run(inputs, runOptions);
    }

    /// <summary>
    /// Runs the graph once and returns the outputs named <paramref name="outputNames"/>, in that order, from one
    /// run (SDXL's second text encoder gives its hidden states and its pooled embedding together).
    /// </summary>
    public IReadOnlyList<ComponentOutput> Run(IReadOnlyList<ComponentInput> inputs, IReadOnlyList<string> outputNames, RunOptions? runOptions = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputNames);
        var unknown = outputNames.Where(n => !OutputNames.Contains(n)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"The graph has no output '{unknown[0]}' (it has {string.Join(", ", OutputNames)}).", nameof(outputNames));
        }
        var (session, lease) = SessionFor(inputs.Select(input => (input.Name, input.Shape)));
        var values = new List<OrtValue>();
        try
        {
            values.AddRange(inputs.Select(CreateValue));
            using var ownedOptions = runOptions is null ? new RunOptions() : null;
            var started = OnnxRunClock.Start();
            IDisposableReadOnlyCollection<OrtValue> run;
            try
            {
                run = session.Run(runOptions ?? ownedOptions!, [.. inputs.Select(i => i.Name)], values, [.. outputNames]);
            }
            finally
            {
                OnnxRunClock.Stop(started);
            }
            using var results = run;
            return [.. results.Select(ReadFloat)];
        }
        finally
        {
            values.ForEach(v => v.Dispose());
            if (lease is not null)
            {
                Release(lease);
            }
        }
    }

    /// <summary>
    /// Prepares repeated runs whose inputs have <paramref name="shapes"/>: picks (or makes) the session for
    /// those sizes and binds the output. Bind the inputs that do not change with
    /// <see cref="ComponentBinding.BindConstant"/>, then call <see cref="ComponentBinding.Run"/> per step.
    /// </summary>
    public ComponentBinding Bind(IEnumerable<(string Name, long[] Shape)> shapes, string? outputName = null)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        var output = outputName ?? OutputNames[0];
        if (!OutputNames.Contains(output))
        {
            throw new ArgumentException($"The graph has no output '{output}' (it has {string.Join(", ", OutputNames)}).", nameof(outputName));
        }
        var (session, lease) = SessionFor(shapes);
        try
        {
            return new ComponentBinding(this, session, lease, output);
        }
        catch
        {
            if (lease is not null)
            {
                Release(lease);
            }
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var entry in _shaped)
        {
            entry.Session.Dispose();
        }
        _shaped.Clear();
        _session.Dispose();
    }

    private (InferenceSession Session, ShapeSession? Lease) SessionFor(IEnumerable<(string Name, long[] Shape)> shapes)
    {
        var capacity = _device.ShapeSessions;
        var sizes = capacity == 0 ? null : FreeDimensionSizes(shapes);
        if (sizes is null || sizes.Count == 0)
        {
            return (_session, null);
        }
        var key = string.Join(",", sizes.Select(kv => $"{kv.Key}={kv.Value}"));
        var entry = _shaped.FirstOrDefault(e => e.Key == key);
        if (entry is not null)
        {
            _shaped.Remove(entry);
        }
        else
        {
            using var options = _device.CreateOptions();
            foreach (var (name, size) in sizes)
            {
                options.AddFreeDimensionOverrideByName(name, size);
            }
            entry = new ShapeSession(key, CreateSession(options));
            ShapeSessionsCreated++;
        }
        _shaped.AddFirst(entry);
        entry.Leases++;
        Trim(capacity);
        return (entry.Session, entry);
    }

    private InferenceSession CreateSession(SessionOptions options) =>
        _model is null ? new InferenceSession(_path, options) : new InferenceSession(_model, options);

    internal void Release(ShapeSession lease)
    {
        lease.Leases--;
        Trim(_device.ShapeSessions);
    }

    // Drops the least recently used sessions beyond the capacity; one a live binding still runs on waits for its release.
    private void Trim(int capacity)
    {
        for (var node = _shaped.Last; node is not null && _shaped.Count > capacity;)
        {
            var previous = node.Previous;
            if (node.Value.Leases == 0)
            {
                node.Value.Session.Dispose();
                _shaped.Remove(node);
            }
            node = previous;
        }
    }

    // Symbolic dimension name → size for these input shapes; null when one name would need two sizes
    // (such a graph keeps its free session rather than being given a wrong fixed one).
    private SortedDictionary<string, long>? FreeDimensionSizes(IEnumerable<(string Name, long[] Shape)> shapes)
    {
        var sizes = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, shape) in shapes)
        {
            if (!Inputs.TryGetValue(name, out var info) || info.Dimensions.Length != shape.Length)
            {
                continue;
            }
            for (var d = 0; d < shape.Length; d++)
            {
                var symbol = info.SymbolicDimensions.Length > d ? info.SymbolicDimensions[d] : "";
                if (info.Dimensions[d] >= 0 || string.IsNullOrEmpty(symbol))
                {
                    continue;
                }
                if (sizes.TryGetValue(symbol, out var seen) && seen != shape[d])
                {
                    return null;
                }
                sizes[symbol] = shape[d];
            }
        }
        return sizes;
    }

    internal OrtValue CreateValue(ComponentInput input)
    {
        if (!Inputs.TryGetValue(input.Name, out var info))
        {
            throw new ArgumentException($"The graph has no input '{input.Name}' (it has {string.Join(", ", Inputs.Keys)}).", nameof(input));
        }
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

    internal static ComponentOutput ReadFloat(OrtValue value)
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

/// <summary>
/// A graph bound for repeated runs (<see cref="OnnxComponent.Bind"/>). Constant inputs are bound once: ONNX
/// Runtime copies a bound input to the device the graph runs on when it is bound, so on CUDA the text
/// conditioning of a generation crosses to the GPU once, not once per step. The output is bound to host
/// memory, where the scheduler reads it. Dispose to release every value it holds.
/// </summary>
public sealed class ComponentBinding : IDisposable
{
    private readonly OnnxComponent _component;
    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private readonly ShapeSession? _lease;
    private readonly List<OrtValue> _constants = [];
    private readonly string _output;
    private bool _disposed;

    internal ComponentBinding(OnnxComponent component, InferenceSession session, ShapeSession? lease, string output)
    {
        _component = component;
        _session = session;
        _lease = lease;
        _output = output;
        _binding = session.CreateIoBinding();
        _binding.BindOutputToDevice(output, OrtMemoryInfo.DefaultInstance);
    }

    /// <summary>The session this binding runs on (the bench's floor drives it directly).</summary>
    internal InferenceSession Session => _session;

    /// <summary>The ONNX Runtime binding itself (the bench's floor binds its own buffers to it).</summary>
    internal OrtIoBinding IoBinding => _binding;

    /// <summary>
    /// Runs with input <paramref name="name"/> read from <paramref name="value"/> and the output written into
    /// <paramref name="output"/> — both tensors the caller owns, typically in device memory, so nothing crosses
    /// to the host — plus <paramref name="inputs"/> bound from host values as in <see cref="Run"/>.
    /// </summary>
    internal void RunInto(string name, OrtValue value, OrtValue output, IEnumerable<ComponentInput> inputs, RunOptions runOptions)
    {
        _binding.BindInput(name, value);
        _binding.BindOutput(_output, output);
        RunWith(inputs, runOptions);
    }

    /// <summary>Binds an input that keeps its value for every later <see cref="Run"/>.</summary>
    public void BindConstant(ComponentInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var value = _component.CreateValue(input);
        try
        {
            _binding.BindInput(input.Name, value);
        }
        catch
        {
            value.Dispose();
            throw;
        }
        _constants.Add(value); // the binding refers to its memory until disposed
    }

    /// <summary>As <see cref="Run"/>, with the output copied as float straight into <paramref name="destination"/>,
    /// which must hold exactly its values (the UNet's loop reads each step's output this way, without an array per step).</summary>
    internal void RunTo(IEnumerable<ComponentInput> inputs, Span<float> destination, RunOptions runOptions)
    {
        RunWith(inputs, runOptions);
        using var outputs = _binding.GetOutputValues();
        var value = outputs[0];
        ReadOnlySpan<float> values = value.GetTensorTypeAndShape().ElementDataType == TensorElementType.Float
            ? value.GetTensorDataAsSpan<float>()
            : OnnxComponent.ReadFloat(value).Values;
        if (values.Length != destination.Length)
        {
            throw new InvalidOperationException($"The graph gave {values.Length} values where {destination.Length} were expected.");
        }
        values.CopyTo(destination);
    }

    /// <summary>Binds <paramref name="inputs"/> (the ones that change per run), runs, and returns the output as float.</summary>
    public ComponentOutput Run(IEnumerable<ComponentInput> inputs, RunOptions? runOptions = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var ownedOptions = runOptions is null ? new RunOptions() : null;
        RunWith(inputs, runOptions ?? ownedOptions!);
        using var outputs = _binding.GetOutputValues();
        return OnnxComponent.ReadFloat(outputs[0]);
    }

    // Binds the per-run inputs from host values and runs.
    private void RunWith(IEnumerable<ComponentInput> inputs, RunOptions runOptions)
    {
        var values = new List<OrtValue>();
        try
        {
            foreach (var input in inputs)
            {
                var value = _component.CreateValue(input);
                values.Add(value);
                _binding.BindInput(input.Name, value);
            }
            var started = OnnxRunClock.Start();
            try
            {
                _session.RunWithBinding(runOptions, _binding);
            }
            finally
            {
                OnnxRunClock.Stop(started);
            }
        }
        finally
        {
            // Rebinding an input by name replaces it before the next run, so these are never read again.
            values.ForEach(v => v.Dispose());
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _binding.Dispose();
        foreach (var value in _constants)
        {
            value.Dispose();
        }
        if (_lease is not null)
        {
            _component.Release(_lease);
        }
    }
}

/// <summary>A session whose free dimensions are fixed to one set of sizes, and how many bindings run on it.</summary>
internal sealed class ShapeSession(string key, InferenceSession session)
{
    public string Key { get; } = key;

    public InferenceSession Session { get; } = session;

    public int Leases { get; set; }
}

/// <summary>What a graph declares for one input.</summary>
/// <param name="Name">The input's name.</param>
/// <param name="ElementType">Its element type.</param>
/// <param name="Dimensions">Its shape; −1 marks a free (symbolic) dimension, an empty array a scalar.</param>
/// <param name="SymbolicDimensions">Each dimension's symbolic name ("batch", "height", …); empty where it has none.</param>
public sealed record ComponentInputInfo(string Name, TensorElementType ElementType, int[] Dimensions, string[] SymbolicDimensions)
{
    /// <summary>True for a rank-0 input (some exports take the timestep as a scalar).</summary>
    public bool IsScalar => Dimensions.Length == 0;
}
