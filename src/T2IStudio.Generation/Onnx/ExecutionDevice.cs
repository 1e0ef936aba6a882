using Microsoft.ML.OnnxRuntime;

namespace T2IStudio.Generation.Onnx;

/// <summary>Where generation runs (<c>Generation:Device</c>).</summary>
public enum DevicePreference
{
    /// <summary>CUDA when its provider loads, otherwise the CPU (with the reason logged).</summary>
    Auto,

    /// <summary>CUDA or fail: a GPU host that silently fell back would be 50× slower.</summary>
    Cuda,

    /// <summary>The CPU only.</summary>
    Cpu,
}

/// <summary>The device sessions were created for, and why.</summary>
/// <param name="Name">"cuda:0" or "cpu".</param>
/// <param name="IsCuda">True when the CUDA provider is in use.</param>
/// <param name="Reason">Why this device: the fallback reason when CUDA did not load.</param>
public sealed record ActiveDevice(string Name, bool IsCuda, string Reason);

/// <summary>Creates session options for the preferred device, falling back from CUDA to the CPU under <see cref="DevicePreference.Auto"/>.</summary>
public sealed class ExecutionDevice
{
    private readonly DevicePreference _preference;
    private readonly int _deviceId;
    private readonly int? _shapeSessions;
    private readonly bool? _residentLatents;
    private volatile string? _residentProblem;
    private readonly object _gate = new();
    private ActiveDevice? _active;

    /// <summary>Chooses <paramref name="preference"/> on GPU <paramref name="deviceId"/>.</summary>
    /// <param name="preference">Where to run.</param>
    /// <param name="deviceId">Which GPU.</param>
    /// <param name="shapeSessions">Sessions with fixed free dimensions kept per graph (see <see cref="ShapeSessions"/>); null decides by device.</param>
    /// <param name="residentLatents">Keep the latents on the device through the loop (see <see cref="ResidentLatents"/>); null decides by device.</param>
    public ExecutionDevice(DevicePreference preference, int deviceId = 0, int? shapeSessions = null, bool? residentLatents = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shapeSessions ?? 0, nameof(shapeSessions));
        _preference = preference;
        _deviceId = deviceId;
        _shapeSessions = shapeSessions;
        _residentLatents = residentLatents;
    }

    /// <summary>The GPU index CUDA runs on.</summary>
    public int DeviceId => _deviceId;

    /// <summary>
    /// Whether the denoising loop keeps the latents, the UNet output and the sampler's history in the device's
    /// memory, running guidance and each sampler step as small graphs there, so only scalars cross per step
    /// (and the latents at a preview). Unless set, on for CUDA and off for the CPU, where the host loop is the
    /// reference whose bytes releases keep (bench: <c>--resident</c>).
    /// </summary>
    public bool ResidentLatents => _residentProblem is null && (_residentLatents ?? Active.IsCuda);

    /// <summary>Why the resident loop was turned off after it failed on this device; null while it is not.</summary>
    public string? ResidentLatentsProblem => _residentProblem;

    /// <summary>Turns the resident loop off for every later generation (it failed here); the host loop takes over.</summary>
    public void DisableResidentLatents(string reason) => _residentProblem ??= reason;

    /// <summary>
    /// How many sessions with their free dimensions fixed to the sizes in use each graph keeps (most recently
    /// used first); 0 runs every size on the one session with free dimensions. Unless set, 2 on CUDA, where
    /// fixed shapes let ONNX Runtime and cuDNN plan memory and pick kernels once per size, and 0 on the CPU,
    /// where a second session would cost a second copy of the weights for little (bench: <c>shapes</c>).
    /// </summary>
    public int ShapeSessions => _shapeSessions ?? (Active.IsCuda ? 2 : 0);

    /// <summary>The device in use, decided at the first session.</summary>
    public ActiveDevice Active
    {
        get
        {
            lock (_gate)
            {
                if (_active is null)
                {
                    using var probe = CreateOptions(); // decides the device once
                }
                return _active!;
            }
        }
    }

    /// <summary>New session options on the active device (the caller disposes them).</summary>
    public SessionOptions CreateOptions()
    {
        lock (_gate)
        {
            var options = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            };
            if (_preference == DevicePreference.Cpu || _active is { IsCuda: false })
            {
                _active ??= new ActiveDevice("cpu", false, "Generation:Device is cpu.");
                return options;
            }
            // A missing CUDA is expected under auto; ONNX Runtime's own red log line would only alarm.
            var env = OrtEnv.Instance();
            var logLevel = env.EnvLogLevel;
            env.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
            try
            {
                options.AppendExecutionProvider_CUDA(_deviceId);
                _active ??= new ActiveDevice($"cuda:{_deviceId}", true, "The CUDA execution provider loaded.");
                return options;
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                options.Dispose();
                if (_preference == DevicePreference.Cuda)
                {
                    throw new InvalidOperationException($"Generation:Device is cuda, but the CUDA execution provider did not load: {ex.Message}", ex);
                }
                _active = new ActiveDevice("cpu", false, $"CUDA did not load, so generation runs on the CPU: {FirstLine(ex.Message)}");
                return new SessionOptions
                {
                    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                    LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
                };
            }
            finally
            {
                env.EnvLogLevel = logLevel;
            }
        }
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
