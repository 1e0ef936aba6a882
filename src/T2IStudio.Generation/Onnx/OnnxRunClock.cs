using System.Diagnostics;

namespace T2IStudio.Generation.Onnx;

/// <summary>
/// Time spent inside ONNX Runtime's run calls of the model's own graphs (text encoders, UNet, VAE), summed over every
/// thread. The engine's helper graphs on the device (the resident loop's guidance, sampler and blend steps, copies)
/// are the engine's work and are not counted. The bench reads it around one generation to split the generation's time
/// into ONNX Runtime's share and the engine's own; two timestamps per graph run cost nothing next to the run.
/// </summary>
internal static class OnnxRunClock
{
    private static long s_ticks;

    /// <summary>Time inside run calls since the process started.</summary>
    public static TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref s_ticks));

    /// <summary>A run call starts: the timestamp to hand to <see cref="Stop"/>.</summary>
    public static long Start() => Stopwatch.GetTimestamp();

    /// <summary>The run call that started at <paramref name="start"/> has returned (or thrown).</summary>
    public static void Stop(long start) => Interlocked.Add(ref s_ticks, Stopwatch.GetTimestamp() - start);
}
