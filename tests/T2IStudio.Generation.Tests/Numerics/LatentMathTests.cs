using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Numerics;

namespace T2IStudio.Generation.Tests.Numerics;

/// <summary>
/// The SIMD step arithmetic must give the bits of the scalar loops it replaced (written out here as they were), or a
/// seed's image would change between releases.
/// </summary>
public sealed class LatentMathTests
{
    public static TheoryData<int> Lengths => [0, 1, 7, 8, 15, 16, 17, 33, 12_288, 12_301];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Scale_gives_the_scalar_bits(int length)
    {
        var values = Values(length, 1, 14.6);
        foreach (var factor in new[] { 0.0682, 1 / Math.Sqrt(14.6 * 14.6 + 1), 0.18215, 3.0 })
        {
            var simd = new float[length];
            LatentMath.Scale(values, factor, simd);
            var scalar = values.Select(v => (float)(v * factor)).ToArray();
            AssertBits(scalar, simd);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Guide_gives_the_scalar_bits(int length)
    {
        var uncond = Values(length, 2, 1.3);
        var cond = Values(length, 3, 1.3);
        foreach (var guidance in new[] { 7.5, 1.5, 12.25, 30.0 })
        {
            var simd = new float[length];
            LatentMath.Guide(uncond, cond, guidance, simd);
            var scalar = new float[length];
            for (var i = 0; i < length; i++)
            {
                var u = uncond[i];
                var c = cond[i];
                scalar[i] = (float)(u + guidance * (c - u));
            }
            AssertBits(scalar, simd);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Euler_step_gives_the_scalar_bits(int length)
    {
        var model = Values(length, 4, 1.1);
        var noise = Values(length, 5, 1);
        foreach (var (sigma, next) in new[] { (14.61, 9.8), (0.7, 0.31), (0.03, 0.0) })
        {
            var sigmaUp = Math.Sqrt(next * next * (sigma * sigma - next * next) / (sigma * sigma));
            var dt = Math.Sqrt(next * next - sigmaUp * sigmaUp) - sigma;
            foreach (var vPrediction in new[] { false, true })
            {
                foreach (var ancestral in new[] { false, true })
                {
                    var sample = Values(length, 6, sigma);
                    var expected = (float[])sample.Clone();
                    for (var i = 0; i < length; i++)
                    {
                        double x = expected[i];
                        var x0 = vPrediction
                            ? model[i] * (-sigma / Math.Sqrt(sigma * sigma + 1)) + x / (sigma * sigma + 1)
                            : x - sigma * model[i];
                        var derivative = (x - x0) / sigma;
                        var value = x + derivative * dt;
                        if (ancestral)
                        {
                            value += noise[i] * sigmaUp;
                        }
                        expected[i] = (float)value;
                    }
                    (double, double)? coefficients = vPrediction ? (-sigma / Math.Sqrt(sigma * sigma + 1), sigma * sigma + 1) : null;
                    LatentMath.EulerStep(model, sample, sigma, dt, coefficients, ancestral ? noise : [], sigmaUp);
                    AssertBits(expected, sample);
                }
            }
        }
    }

    [Fact]
    public void Spans_of_different_lengths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => LatentMath.Guide(new float[8], new float[9], 7, new float[8]));
        Assert.Throws<ArgumentException>(() => LatentMath.Scale(new float[8], 2, new float[7]));
        Assert.Throws<ArgumentException>(() => LatentMath.EulerStep(new float[8], new float[8], 1, -0.1, null, new float[3], 0.2));
    }

    private static float[] Values(int length, ulong seed, double scale)
    {
        var values = new float[length];
        new GaussianNoise(seed).Fill(values);
        for (var i = 0; i < length; i++)
        {
            values[i] = (float)(values[i] * scale);
        }
        return values;
    }

    private static void AssertBits(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"value {i}: {actual[i]:R} where the scalar loop gives {expected[i]:R}");
        }
    }
}
