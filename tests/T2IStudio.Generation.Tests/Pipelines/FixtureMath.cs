using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Tests.Pipelines;

/// <summary>The fixture graphs' arithmetic, redone in plain C# for expected values.</summary>
internal static class FixtureMath
{
    public const int Width = 8;
    public static readonly ClipTokenizer Tokenizer = ClipTokenizer.FromFolder(Path.Combine(AppContext.BaseDirectory, "TestData", "clip-tokenizer"));

    /// <summary>last_hidden_state[t, k] = id[t] · (k + 1) · 1e-6.</summary>
    public static float[] Hidden(string prompt)
    {
        var ids = Tokenizer.EncodeForModel(prompt);
        var hidden = new float[ids.Length * Width];
        for (var t = 0; t < ids.Length; t++)
        {
            for (var k = 0; k < Width; k++)
            {
                hidden[t * Width + k] = ids[t] * ((k + 1) * 1e-6f);
            }
        }
        return hidden;
    }

    public static double Mean(float[] values) => values.Average(v => (double)v);

    /// <summary>The whole text-to-image loop for the fixture UNet under DDIM, then the fixture decoder.</summary>
    public static byte[] TextToImage(string prompt, string negative, double guidance, int steps, ulong seed, int size)
    {
        double mc = Mean(Hidden(prompt)), mu = Mean(Hidden(negative));
        var scheduler = new DdimScheduler(SchedulerConfig.FromJson(FixtureModel.DdimConfig));
        scheduler.SetTimesteps(steps);
        var h = size / 8;
        var latents = new float[4 * h * h];
        new GaussianNoise(seed).Fill(latents);
        foreach (var (t, i) in scheduler.Timesteps.Select((t, i) => (t, i)))
        {
            var eps = latents.Select(x =>
            {
                var u = 0.5 * x + mu + 1e-4 * t;
                var c = 0.5 * x + mc + 1e-4 * t;
                return (float)(u + guidance * (c - u));
            }).ToArray();
            scheduler.Step(eps, i, latents, new GaussianNoise(0));
        }
        return Decode(latents, size);
    }

    /// <summary>Nearest ×8 upsampling of channels 0–2 of latents / 0.18215, clipped, to bytes.</summary>
    public static byte[] Decode(float[] latents, int size)
    {
        var h = size / 8;
        var pixels = new byte[size * size * 3];
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    var v = Math.Clamp(latents[c * h * h + y / 8 * h + x / 8] / 0.18215, -1, 1);
                    pixels[(y * size + x) * 3 + c] = (byte)Math.Round((v + 1) / 2 * 255, MidpointRounding.AwayFromZero);
                }
            }
        }
        return pixels;
    }
}
