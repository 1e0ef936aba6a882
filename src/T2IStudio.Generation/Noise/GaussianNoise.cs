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

    /// <summary>Fills <paramref name="destination"/> with standard-normal values.</summary>
    public void Fill(Span<float> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = (float)NextGaussian();
        }
    }

    /// <summary>A uniform value in [0, 1) from the top 53 bits.</summary>
    public double NextUniform() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Natural logarithm of a positive, finite <paramref name="x"/> from exactly rounded operations only.</summary>
    public static double DeterministicLog(double x)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(x);
        var exponentBias = 0;
        if (x < 2.2250738585072014E-308)
        {
            x *= 18014398509481984.0; // 2^54, lifts subnormals
            exponentBias = -54;
        }
        var bits = BitConverter.DoubleToInt64Bits(x);
        var exponent = (int)((bits >> 52) & 0x7FF) - 1023 + exponentBias;
        var mantissa = BitConverter.Int64BitsToDouble((bits & 0x000F_FFFF_FFFF_FFFFL) | 0x3FF0_0000_0000_0000L); // [1, 2)
        if (mantissa > 1.4142135623730951)
        {
            mantissa /= 2;
            exponent++;
        }
        // ln m = 2·atanh(t), t = (m−1)/(m+1), |t| ≤ 0.1716: 24 terms reach far below double precision.
        var t = (mantissa - 1) / (mantissa + 1);
        var t2 = t * t;
        var term = t;
        var sum = 0.0;
        for (var k = 0; k < 24; k++)
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
        const double ln2 = 0.6931471805599453;
        return exponent * ln2 + 2 * sum;
    }

    private ulong Next()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
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
