using System.Numerics;
using System.Runtime.CompilerServices;

namespace T2IStudio.Generation.Numerics;

/// <summary>
/// The per-element arithmetic of a denoising step, in SIMD lanes. Each function performs, lane by lane, exactly the
/// operations of the scalar expression it documents (float values widened to double, IEEE-754 operations, one
/// rounding back to float), so its results are bit-identical to the scalar loop the engine ran before and a seed
/// keeps its image.
/// </summary>
internal static class LatentMath
{
    /// <summary><c>destination[i] = (float)(values[i] · factor)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(ReadOnlySpan<float> values, double factor, Span<float> destination)
    {
        Require(values.Length, destination.Length);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var f = new Vector<double>(factor);
            for (; i + Vector<float>.Count <= values.Length; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(values[i..]), out var low, out var high);
                Vector.Narrow(low * f, high * f).CopyTo(destination[i..]);
            }
        }
        for (; i < values.Length; i++)
        {
            destination[i] = (float)(values[i] * factor);
        }
    }

    /// <summary>Classifier-free guidance: <c>destination[i] = (float)(u + guidance · (c − u))</c> with
    /// <c>u = uncond[i]</c>, <c>c = cond[i]</c> and <c>c − u</c> taken in float, as the engine always has.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Guide(ReadOnlySpan<float> uncond, ReadOnlySpan<float> cond, double guidance, Span<float> destination)
    {
        Require(uncond.Length, cond.Length);
        Require(uncond.Length, destination.Length);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var g = new Vector<double>(guidance);
            for (; i + Vector<float>.Count <= uncond.Length; i += Vector<float>.Count)
            {
                var u = new Vector<float>(uncond[i..]);
                var difference = new Vector<float>(cond[i..]) - u;
                Vector.Widen(u, out var uLow, out var uHigh);
                Vector.Widen(difference, out var dLow, out var dHigh);
                Vector.Narrow(uLow + g * dLow, uHigh + g * dHigh).CopyTo(destination[i..]);
            }
        }
        for (; i < uncond.Length; i++)
        {
            var u = uncond[i];
            var c = cond[i];
            destination[i] = (float)(u + guidance * (c - u));
        }
    }

    /// <summary>
    /// An Euler step in σ-space on <paramref name="sample"/>, in place:
    /// <c>x₀ = x − σ·ε</c> (or, for v-prediction, <c>x₀ = v·a + x/b</c>), <c>x' = x + (x − x₀)/σ · dt</c>, plus
    /// <c>noise[i] · σ_up</c> when noise is given (not empty); every value in double, rounded to float once.
    /// For ε-prediction pass <c>null</c> as the v-prediction coefficients; otherwise <c>a = −σ/√(σ²+1)</c> and
    /// <c>b = σ²+1</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void EulerStep(ReadOnlySpan<float> modelOutput, Span<float> sample, double sigma, double dt, (double A, double B)? vPrediction, ReadOnlySpan<float> noise, double sigmaUp)
    {
        Require(modelOutput.Length, sample.Length);
        var noisy = !noise.IsEmpty;
        if (noisy)
        {
            Require(noise.Length, sample.Length);
        }
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var s = new Vector<double>(sigma);
            var step = new Vector<double>(dt);
            var up = new Vector<double>(sigmaUp);
            var a = new Vector<double>(vPrediction?.A ?? 0);
            var b = new Vector<double>(vPrediction?.B ?? 1);
            for (; i + Vector<float>.Count <= sample.Length; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(sample[i..]), out var xLow, out var xHigh);
                Vector.Widen(new Vector<float>(modelOutput[i..]), out var mLow, out var mHigh);
                Vector<double> nLow = default, nHigh = default;
                if (noisy)
                {
                    Vector.Widen(new Vector<float>(noise[i..]), out nLow, out nHigh);
                }
                Vector<double> Lane(Vector<double> x, Vector<double> m, Vector<double> n)
                {
                    var x0 = vPrediction is null ? x - s * m : m * a + x / b;
                    var next = x + (x - x0) / s * step;
                    return noisy ? next + n * up : next;
                }
                Vector.Narrow(Lane(xLow, mLow, nLow), Lane(xHigh, mHigh, nHigh)).CopyTo(sample[i..]);
            }
        }
        for (; i < sample.Length; i++)
        {
            double x = sample[i];
            var x0 = vPrediction is { } v ? modelOutput[i] * v.A + x / v.B : x - sigma * modelOutput[i];
            var next = x + (x - x0) / sigma * dt;
            if (noisy)
            {
                next += noise[i] * sigmaUp;
            }
            sample[i] = (float)next;
        }
    }

    private static void Require(int expected, int actual)
    {
        if (expected != actual)
        {
            throw new ArgumentException($"Spans of {expected} and {actual} values cannot be combined element by element.");
        }
    }
}
