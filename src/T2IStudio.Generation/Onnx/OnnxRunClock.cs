using System.Diagnostics;

namespace T2IStudio.Generation.Onnx;

/// <summary>
/// Time spent inside ONNX Runtime's run calls of the engine's graphs (text encoders, UNet, VAE), summed over every
/// thread. The bench reads it around one generation to split the generation's time into ONNX Runtime's share and the
/// engine's own; two timestamps per graph run cost nothing next to the run.
/// </summary>
internal static class OnnxRunClock
{
    private static long s_ticks;

    /// <summary>Time inside run calls since the process started.</summary>
    public static TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref s_ticks));

    /// <summary>Runs <paramref name="run"/>, counting its time.</summary>
    public static void Time(Action run)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            run();
        }
        finally
        {
            Interlocked.Add(ref s_ticks, Stopwatch.GetTimestamp() - start);
        }
    }

    /// <summary>Runs <paramref name="run"/>, counting its time.</summary>
    public static T Time<T>(Func<T> run)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return run();
        }
        finally
        {
            Interlocked.Add(ref s_ticks, Stopwatch.GetTimestamp() - start);
        }
    }
}
