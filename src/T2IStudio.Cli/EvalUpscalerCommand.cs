using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Upscaling;

namespace T2IStudio.Cli;

/// <summary>
/// <c>t2i eval-upscaler [--upscaler DIR|ID] [--count N] [--device auto|cuda|cpu]</c>: measures an upscaler against
/// bicubic and Lanczos on the held-out pairs in its <c>held-out/</c> folder (the embedded upscaler's card figures).
/// </summary>
internal static class EvalUpscalerCommand
{
    /// <summary>The upscaler measured when <c>--upscaler</c> is not given.</summary>
    public const string EmbeddedId = "t2istudio-tiny-x4";

    private static readonly string[] Roots = ["models", Path.Combine(AppContext.BaseDirectory, "models")];

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var a = new Arguments(args, new HashSet<string> { "--upscaler", "--count", "--device" });
        var count = a.Integer("--count", int.MaxValue);
        if (count < 1)
        {
            throw new UsageException("--count must be at least 1.");
        }
        var device = a.Text("--device") switch
        {
            null or "cpu" => DevicePreference.Cpu,
            "auto" => DevicePreference.Auto,
            "cuda" => DevicePreference.Cuda,
            var other => throw new UsageException($"--device must be auto, cuda or cpu, not '{other}'."),
        };
        var info = Resolve(a.Text("--upscaler") ?? EmbeddedId);
        if (!info.IsAvailable)
        {
            throw new UsageException($"--upscaler '{info.Id}' is unavailable: {info.Problem}");
        }
        var folder = Path.Combine(info.Folder, UpscalerEvaluation.HeldOutFolder);
        if (!Directory.Exists(folder))
        {
            throw new UsageException($"--upscaler '{info.Id}' has no {UpscalerEvaluation.HeldOutFolder}/ folder of NAME-low.png / NAME-high.png pairs to measure on.");
        }
        var pairs = UpscalerEvaluation.ReadPairs(folder, count);
        if (pairs.Count == 0)
        {
            throw new UsageException($"{folder} holds no NAME-low.png / NAME-high.png pairs.");
        }
        var executionDevice = new ExecutionDevice(device);
        using var upscaler = LoadedUpscaler.Load(info, executionDevice);
        stderr.WriteLine($"Measuring {info.DisplayName} (×{info.Scale}) on {pairs.Count} held-out pairs from {folder}");
        upscaler.Upscale(pairs[0].Low, info.Scale, null, cancellationToken); // warm-up: the first run plans the session
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var ours = UpscalerEvaluation.Score(info.DisplayName, pairs, (low, width, height) =>
            upscaler.Upscale(low, (double)width / low.Width, null, cancellationToken));
        var perImage = clock.Elapsed.TotalMilliseconds / pairs.Count;
        UpscaleScore[] scores =
        [
            ours,
            UpscalerEvaluation.Score("bicubic", pairs, UpscalerEvaluation.Bicubic),
            UpscalerEvaluation.Score("Lanczos-3", pairs, UpscalerEvaluation.Lanczos),
        ];
        var width = Math.Max(12, scores.Max(s => s.Method.Length));
        stdout.WriteLine($"{"method".PadRight(width)}  PSNR (dB)  edge sharpness");
        foreach (var score in scores)
        {
            stdout.WriteLine($"{score.Method.PadRight(width)}  {score.Psnr,9:F2}  {score.EdgeSharpness,13:P0}");
        }
        stdout.WriteLine($"({pairs.Count} pairs; edge sharpness: mean Sobel gradient on the ground truth's edges relative to the ground truth's)");
        stdout.WriteLine($"{info.DisplayName}: {perImage:F0} ms per {pairs[0].Low.Width}×{pairs[0].Low.Height} image on {executionDevice.Active.Name}");
        return 0;
    }

    private static UpscalerInfo Resolve(string upscaler)
    {
        if (Directory.Exists(upscaler))
        {
            return UpscalerCatalog.Inspect(Path.GetFullPath(upscaler));
        }
        var roots = Roots.Where(Directory.Exists).ToList();
        return new UpscalerCatalog(roots).Find(upscaler)
            ?? throw new UsageException($"--upscaler '{upscaler}' is neither a folder nor an upscaler under {string.Join(" or ", Roots.Select(r => Path.Combine(Path.GetFullPath(r), UpscalerCatalog.FolderName)))}.");
    }
}
