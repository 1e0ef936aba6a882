using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace T2IStudio.Generation.Noise;

/// <summary>
/// The seeded standard-normal generator behind every latent: a seed means the same noise on every
/// machine, runtime and release. This is part of the product's contract; do not change it.
/// </summary>
/// <remarks>
/// <para>Algorithm (version 1):</para>
/// <list type="number">
/// <item>State: xoshiro256** (Blackman and Vigna), its four words filled by SplitMix64 from the 64-bit seed.</item>
/// <item>Uniform: the top 53 bits of a xoshiro output, times 2⁻⁵³, mapped to (−1, 1) as 2u − 1.</item>
/// <item>Normal: Marsaglia's polar method; both values of each accepted pair are used, first u·f then v·f,
/// with f = √(−2 ln s / s).</item>
/// <item>The logarithm is computed here from IEEE-754 additions, multiplications and divisions only
/// (exponent split plus the atanh series to a fixed 24 terms), and √ is IEEE-exact, so no platform
/// math library can change a bit. Values are produced in double precision and rounded to float.</item>
/// </list>
/// <para>Latents are filled in NCHW order; image k of a batch uses seed + k.</para>
/// </remarks>
public sealed class GaussianNoise
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spare;

    /// <summary>Starts the sequence for <paramref name="seed"/>.</summary>
    public GaussianNoise(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>The next standard-normal value.</summary>
    public double NextGaussian()
    {
        if (_spare is { } spare)
        {
            _spare = null;
            return spare;
        }
        double u, v, s;
        do
        {
            u = 2 * NextUniform() - 1;
            v = 2 * NextUniform() - 1;
            s = u * u + v * v;
        }
        while (s >= 1 || s == 0);
        var factor = Math.Sqrt(-2 * DeterministicLog(s) / s);
        _spare = v * factor;
        return u * factor;
    }

    /// <summary>Fills <paramref name="destination"/> with standard-normal values: the same values, bit for bit, as
    /// calling <see cref="NextGaussian"/> once per element.</summary>
    /// <remarks>The uniform draws and the polar method's rejections stay sequential (they are cheap); the logarithm,
    /// which is most of the cost, runs for several accepted pairs at once in SIMD lanes. Each lane performs exactly
    /// the scalar operations in the same order (IEEE-754 additions, multiplications, divisions and square roots are
    /// exactly rounded in every lane), so the values are unchanged.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a hot loop called a few times per image: skip tier 0
    public void Fill(Span<float> destination)
    {
        var written = 0;
        if (_spare is { } spare && destination.Length > 0)
        {
            _spare = null;
            destination[written++] = (float)spare;
        }
        if (!Vector256.IsHardwareAccelerated)
        {
            for (; written < destination.Length; written++)
            {
                destination[written] = (float)NextGaussian();
            }
            return;
        }
        Span<double> u = stackalloc double[PairsPerBlock];
        Span<double> v = stackalloc double[PairsPerBlock];
        Span<double> factor = stackalloc double[PairsPerBlock];
        // The generator's state in locals (registers) while drawing: the same steps as Next(), without a store and
        // reload of four fields per draw.
        ulong s0 = _s0, s1 = _s1, s2 = _s2, s3 = _s3;
        while (written < destination.Length)
        {
            var pairs = Math.Min(PairsPerBlock, (destination.Length - written + 1) / 2);
            for (var p = 0; p < pairs; p++)
            {
                double up, vp, sp;
                do
                {
                    up = 2 * ToUniform(Step(ref s0, ref s1, ref s2, ref s3)) - 1;
                    vp = 2 * ToUniform(Step(ref s0, ref s1, ref s2, ref s3)) - 1;
                    sp = up * up + vp * vp;
                }
                while (sp >= 1 || sp == 0);
                u[p] = up;
                v[p] = vp;
                factor[p] = sp;
            }
            PolarFactors(factor[..pairs]);
            for (var p = 0; p < pairs; p++)
            {
                destination[written++] = (float)(u[p] * factor[p]);
                if (written < destination.Length)
                {
                    destination[written++] = (float)(v[p] * factor[p]);
                }
                else
                {
                    _spare = v[p] * factor[p];
                }
            }
        }
        (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
    }

    private const int PairsPerBlock = 256;

    /// <summary>Replaces each s by √(−2 ln s / s), in lanes, with the same bits as the scalar expression;
    /// <paramref name="widestLanes"/> (512, 256 or 0 bits) lets tests run the narrower paths on any machine.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PolarFactors(Span<double> values, int widestLanes = 512)
    {
        var i = 0;
        if (widestLanes >= 512 && Vector512.IsHardwareAccelerated)
        {
            for (; i + Vector512<double>.Count <= values.Length; i += Vector512<double>.Count)
            {
                var s = Vector512.Create<double>(values.Slice(i, Vector512<double>.Count));
                if (Vector512.LessThanAny(s, Vector512.Create(SmallestNormal)))
                {
                    break; // subnormals take the scalar path's rescaling; polar draws never produce them
                }
                Vector512.Sqrt(Vector512.Create(-2.0) * DeterministicLog(s) / s).CopyTo(values.Slice(i, Vector512<double>.Count));
            }
        }
        for (; widestLanes >= 256 && i + Vector256<double>.Count <= values.Length; i += Vector256<double>.Count)
        {
            var s = Vector256.Create<double>(values.Slice(i, Vector256<double>.Count));
            if (Vector256.LessThanAny(s, Vector256.Create(SmallestNormal)))
            {
                break;
            }
            Vector256.Sqrt(Vector256.Create(-2.0) * DeterministicLog(s) / s).CopyTo(values.Slice(i, Vector256<double>.Count));
        }
        for (; i < values.Length; i++)
        {
            values[i] = Math.Sqrt(-2 * DeterministicLog(values[i]) / values[i]);
        }
    }

    // DeterministicLog(double) for normal, positive lanes: the same operations in the same order per lane. A lane
    // whose series has converged keeps its sum while others go on: its later terms are smaller still and of the same
    // sign, so adding them rounds back to the same sum. The two widths are the same code.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector512<double> DeterministicLog(Vector512<double> x)
    {
        var bits = x.AsInt64();
        var exponent = Vector512.ConvertToDouble(((bits >>> 52) & Vector512.Create(0x7FFL)) - Vector512.Create(1023L));
        var mantissa = ((bits & Vector512.Create(MantissaBits)) | Vector512.Create(ExponentOfOne)).AsDouble();
        var high = Vector512.GreaterThan(mantissa, Vector512.Create(Sqrt2));
        mantissa = Vector512.ConditionalSelect(high, mantissa / 2, mantissa);
        exponent = Vector512.ConditionalSelect(high, exponent + Vector512<double>.One, exponent);
        var t = (mantissa - Vector512<double>.One) / (mantissa + Vector512<double>.One);
        var t2 = t * t;
        var term = t;
        var sum = Vector512<double>.Zero;
        for (var k = 0; k < SeriesTerms; k++)
        {
            var next = sum + term / Vector512.Create((double)(2 * k + 1));
            if (Vector512.EqualsAll(next, sum))
            {
                break;
            }
            sum = next;
            term *= t2;
        }
        return exponent * Vector512.Create(Ln2) + Vector512.Create(2.0) * sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector256<double> DeterministicLog(Vector256<double> x)
    {
        var bits = x.AsInt64();
        var exponent = Vector256.ConvertToDouble(((bits >>> 52) & Vector256.Create(0x7FFL)) - Vector256.Create(1023L));
        var mantissa = ((bits & Vector256.Create(MantissaBits)) | Vector256.Create(ExponentOfOne)).AsDouble();
        var high = Vector256.GreaterThan(mantissa, Vector256.Create(Sqrt2));
        mantissa = Vector256.ConditionalSelect(high, mantissa / 2, mantissa);
        exponent = Vector256.ConditionalSelect(high, exponent + Vector256<double>.One, exponent);
        var t = (mantissa - Vector256<double>.One) / (mantissa + Vector256<double>.One);
        var t2 = t * t;
        var term = t;
        var sum = Vector256<double>.Zero;
        for (var k = 0; k < SeriesTerms; k++)
        {
            var next = sum + term / Vector256.Create((double)(2 * k + 1));
            if (Vector256.EqualsAll(next, sum))
            {
                break;
            }
            sum = next;
            term *= t2;
        }
        return exponent * Vector256.Create(Ln2) + Vector256.Create(2.0) * sum;
    }

    private const long MantissaBits = 0x000F_FFFF_FFFF_FFFFL;
    private const long ExponentOfOne = 0x3FF0_0000_0000_0000L;
    private const double Sqrt2 = 1.4142135623730951;
    private const double Ln2 = 0.6931471805599453;
    private const int SeriesTerms = 24;
    private const double SmallestNormal = 2.2250738585072014E-308;

    /// <summary>A uniform value in [0, 1) from the top 53 bits.</summary>
    public double NextUniform() => ToUniform(Next());

    private static double ToUniform(ulong bits) => (bits >> 11) * (1.0 / (1UL << 53));

    /// <summary>Natural logarithm of a positive, finite <paramref name="x"/> from exactly rounded operations only.</summary>
    public static double DeterministicLog(double x)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(x);
        var exponentBias = 0;
        if (x < SmallestNormal)
        {
            x *= 18014398509481984.0; // 2^54, lifts subnormals
            exponentBias = -54;
        }
        var bits = BitConverter.DoubleToInt64Bits(x);
        var exponent = (int)((bits >> 52) & 0x7FF) - 1023 + exponentBias;
        var mantissa = BitConverter.Int64BitsToDouble((bits & MantissaBits) | ExponentOfOne); // [1, 2)
        if (mantissa > Sqrt2)
        {
            mantissa /= 2;
            exponent++;
        }
        // ln m = 2·atanh(t), t = (m−1)/(m+1), |t| ≤ 0.1716: 24 terms reach far below double precision.
        var t = (mantissa - 1) / (mantissa + 1);
        var t2 = t * t;
        var term = t;
        var sum = 0.0;
        for (var k = 0; k < SeriesTerms; k++)
        {
            var next = sum + term / (2 * k + 1);
            // The terms shrink by t² ≤ 0.0295 each and share one sign, and rounding is monotone: once adding one
            // leaves the sum unchanged, every later (smaller) one does too, so stopping here gives the same bits
            // as all 24 terms (about 11 are needed) — the noise, and every seed's image, stay byte-identical.
            if (next == sum)
            {
                break;
            }
            sum = next;
            term *= t2;
        }
        return exponent * Ln2 + 2 * sum;
    }

    private ulong Next() => Step(ref _s0, ref _s1, ref _s2, ref _s3);

    /// <summary>One xoshiro256** step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Step(ref ulong s0, ref ulong s1, ref ulong s2, ref ulong s3)
    {
        var result = RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = RotateLeft(s3, 45);
        return result;
    }

    private static ulong SplitMix(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        var z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
