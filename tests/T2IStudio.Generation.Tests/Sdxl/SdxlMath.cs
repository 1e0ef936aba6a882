using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Tests.Pipelines;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Tests.Sdxl;

/// <summary>The sdxl_* fixture graphs' arithmetic (tools/fixtures/make_fixtures.py), redone in plain C#.</summary>
internal static class SdxlMath
{
    public const int Width1 = 4;
    public const int Width2 = 6;
    public const int Pooled = 5;
    public const int Width = Width1 + Width2;
    public const int PadId2 = 0; // "!" in CLIP's vocabulary: tokenizer_2's pad token

    /// <summary>The prompt's 77-id chunks, framed by hand: BOS, 75 tokens at most, EOS, then <paramref name="pad"/>.</summary>
    public static int[][] Chunks(string prompt, int pad)
    {
        var tokens = FixtureMath.Tokenizer.Encode(prompt);
        var count = Math.Max(1, (tokens.Count + ClipTokenizer.Window - 1) / ClipTokenizer.Window);
        return [.. Enumerable.Range(0, count).Select(c =>
        {
            var chunk = tokens.Skip(c * ClipTokenizer.Window).Take(ClipTokenizer.Window).ToList();
            var ids = Enumerable.Repeat(pad, ClipTokenizer.SequenceLength).ToArray();
            ids[0] = ClipTokenizer.BeginOfText;
            chunk.CopyTo(ids, 1);
            ids[chunk.Count + 1] = ClipTokenizer.EndOfText;
            return ids;
        })];
    }

    /// <summary>text_encoder's penultimate layer, hidden_states.2 = id · (k+1)·1e-6 · 3, in float32 as the graph computes it.</summary>
    public static float First(int id, int k) => id * ((k + 1) * 1e-6f) * 3f;

    /// <summary>text_encoder_2's penultimate layer, hidden_states.3 = id · (k+1)·1e-7 · 4.</summary>
    public static float Second(int id, int k) => id * ((k + 1) * 1e-7f) * 4f;

    /// <summary>The concatenated hidden states of one prompt: per token, text_encoder's 4 then text_encoder_2's 6.</summary>
    public static float[] Hidden(string prompt)
    {
        var first = Chunks(prompt, ClipTokenizer.EndOfText).SelectMany(c => c).ToArray();
        var second = Chunks(prompt, PadId2).SelectMany(c => c).ToArray();
        var hidden = new float[first.Length * Width];
        for (var t = 0; t < first.Length; t++)
        {
            for (var k = 0; k < Width1; k++)
            {
                hidden[t * Width + k] = First(first[t], k);
            }
            for (var k = 0; k < Width2; k++)
            {
                hidden[t * Width + Width1 + k] = Second(second[t], k);
            }
        }
        return hidden;
    }

    /// <summary>text_embeds = mean of the first chunk's tokenizer_2 ids · (p+1)·1e-6.</summary>
    public static double[] PooledOf(string prompt)
    {
        var mean = Chunks(prompt, PadId2)[0].Average(id => (double)id);
        return [.. Enumerable.Range(0, Pooled).Select(p => mean * (p + 1) * 1e-6)];
    }

    /// <summary>The UNet's four per-channel terms for one row: encoder-1 mean, encoder-2 mean, pooled mean, weighted time ids.</summary>
    public static double[] Terms(float[] hidden, double[] pooled, double[] timeIds)
    {
        double m1 = 0, m2 = 0;
        var tokens = hidden.Length / Width;
        for (var t = 0; t < tokens; t++)
        {
            for (var k = 0; k < Width1; k++)
            {
                m1 += hidden[t * Width + k];
            }
            for (var k = 0; k < Width2; k++)
            {
                m2 += hidden[t * Width + Width1 + k];
            }
        }
        return [m1 / (tokens * Width1), m2 / (tokens * Width2), pooled.Average(), timeIds.Select((v, i) => (i + 1) * 1e-4 * v).Sum()];
    }

    /// <summary>diffusers' default time ids for a height × width image: original size, crop (0, 0), target size.</summary>
    public static double[] TimeIds(int width, int height) => [height, width, 0, 0, height, width];

    /// <summary>
    /// The whole DDIM loop on the fixture UNet from <paramref name="latents"/> (already noised to step
    /// <paramref name="start"/>), guided with <paramref name="uncond"/> terms when given, then the fixture decoder
    /// at SDXL's scaling 0.13025.
    /// </summary>
    public static byte[] Denoise(float[] latents, double[] cond, double[]? uncond, double guidance, DdimScheduler scheduler, int start, int width, int height)
    {
        var plane = latents.Length / 4;
        for (var i = start; i < scheduler.Timesteps.Count; i++)
        {
            var t = scheduler.Timesteps[i];
            var eps = new float[latents.Length];
            for (var j = 0; j < latents.Length; j++)
            {
                var shared = 0.5 * latents[j] + 1e-4 * t;
                var c = shared + cond[j / plane];
                var u = uncond is null ? c : shared + uncond[j / plane];
                eps[j] = (float)(uncond is null ? c : u + guidance * (c - u));
            }
            scheduler.Step(eps, i, latents, new GaussianNoise(0));
        }
        return Decode(latents, width, height);
    }

    /// <summary>Nearest ×8 upsampling of channels 0–2 of latents / 0.13025, clipped, to bytes.</summary>
    public static byte[] Decode(float[] latents, int width, int height)
    {
        int w = width / 8, h = height / 8;
        var pixels = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    var v = Math.Clamp(latents[c * h * w + y / 8 * w + x / 8] / 0.13025, -1, 1);
                    pixels[(y * width + x) * 3 + c] = (byte)Math.Round((v + 1) / 2 * 255, MidpointRounding.AwayFromZero);
                }
            }
        }
        return pixels;
    }
}
