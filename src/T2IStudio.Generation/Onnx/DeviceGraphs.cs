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
    public int Compiled { get; private set; }

    /// <summary>The session for graph <paramref name="key"/>, built by <paramref name="build"/> the first time.</summary>
    public InferenceSession Get(string key, Func<byte[]> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        if (!_sessions.TryGetValue(key, out var session))
        {
            using var options = _device.CreateOptions();
            session = new InferenceSession(build(), options);
            _sessions[key] = session;
            Compiled++;
        }
        return session;
    }

    /// <summary>A tensor allocated on the device (GPU memory on CUDA); the caller disposes it.</summary>
    public OrtValue Allocate(TensorElementType type, long[] shape, InferenceSession onSession)
    {
        ArgumentNullException.ThrowIfNull(onSession);
        if (!_device.Active.IsCuda)
        {
            return OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, shape);
        }
        _memoryInfo ??= new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, _device.DeviceId, OrtMemType.Default);
        _allocator ??= new OrtAllocator(onSession, _memoryInfo);
        return OrtValue.CreateAllocatedTensorValue(_allocator, type, shape);
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
