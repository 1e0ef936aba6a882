using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace T2IStudio.Generation.Onnx;

/// <summary>
/// The engine's own small graphs (<see cref="OnnxGraphWriter"/>) compiled for one device and kept per model,
/// plus memory on that device for tensors that stay there between runs. Each graph is compiled once per
/// structure and reused by every later generation. Not thread-safe (one worker per device).
/// </summary>
public sealed class DeviceGraphs(ExecutionDevice device) : IDisposable
{
    private readonly ExecutionDevice _device = device ?? throw new ArgumentNullException(nameof(device));
    private readonly Dictionary<string, InferenceSession> _sessions = [];
    private OrtMemoryInfo? _memoryInfo;
    private OrtAllocator? _allocator;

    /// <summary>Graphs compiled so far (each structure once).</summary>
    public int Compiled => _sessions.Count;

    /// <summary>The session for graph <paramref name="key"/>, built by <paramref name="build"/> the first time.</summary>
    public InferenceSession Get(string key, Func<byte[]> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        if (!_sessions.TryGetValue(key, out var session))
        {
            using var options = _device.CreateOptions();
            session = new InferenceSession(build(), options);
            _sessions[key] = session;
        }
        return session;
    }

    /// <summary>A tensor allocated on the device (GPU memory on CUDA); the caller disposes it.</summary>
    public OrtValue Allocate(TensorElementType type, long[] shape)
    {
        if (!_device.Active.IsCuda)
        {
            return OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, shape);
        }
        // A session's allocator lives as long as the session: take it from the copy graph, which lives as long as this.
        _memoryInfo ??= new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, _device.DeviceId, OrtMemType.Default);
        _allocator ??= new OrtAllocator(Copy, _memoryInfo);
        return OrtValue.CreateAllocatedTensorValue(_allocator, type, shape);
    }

    /// <summary>A new device tensor holding <paramref name="values"/> (bound as a host input, ONNX Runtime copies it over).</summary>
    public OrtValue Upload(float[] values, long[] shape)
    {
        var device = Allocate(TensorElementType.Float, shape);
        try
        {
            using var host = OrtValue.CreateTensorValueFromMemory(values, shape);
            RunCopy(host, device);
            return device;
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>Copies the float tensor <paramref name="source"/> (on the device) into <paramref name="destination"/> on the host.</summary>
    public void Download(OrtValue source, float[] destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var host = OrtValue.CreateTensorValueFromMemory(destination, source.GetTensorTypeAndShape().Shape);
        RunCopy(source, host);
    }

    private InferenceSession Copy => Get("copy", () =>
    {
        var g = new OnnxGraphWriter();
        g.Output(g.Input("x", TensorElementType.Float), "y", TensorElementType.Float);
        return g.ToBytes("copy");
    });

    private void RunCopy(OrtValue from, OrtValue to)
    {
        var session = Copy;
        using var binding = session.CreateIoBinding();
        binding.BindInput("x", from);
        binding.BindOutput("y", to);
        using var options = new RunOptions();
        session.RunWithBinding(options, binding);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var session in _sessions.Values)
        {
            session.Dispose();
        }
        _sessions.Clear();
        _allocator?.Dispose();
        _memoryInfo?.Dispose();
    }
}
