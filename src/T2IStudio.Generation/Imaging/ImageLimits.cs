namespace T2IStudio.Generation.Imaging;

/// <summary>What <see cref="ImageIntake"/> reads from an untrusted file; every refusal message quotes them.</summary>
public sealed record ImageLimits
{
    /// <summary>The limits for an upload, a mask or a PNG read back: 10 MB, 16 MP, 8192 px a side.</summary>
    public static ImageLimits Default { get; } = new();

    /// <summary>
    /// The limits for a PNG the server or its workers made: the largest the server produces (an incompressible
    /// <see cref="MaxPixels"/> RGB image is 3 bytes a pixel, plus filter bytes, zlib and chunk framing and the
    /// parameters text) must pass, or a 4096² upscale is refused after the whole run.
    /// </summary>
    public static ImageLimits StoredPng { get; } = new() { MaxFileBytes = StoredPngMegabytes * 1024L * 1024 };

    /// <summary>The largest stored PNG in MiB: 48 MiB of 16 MP noise and 2 MiB of framing and text.</summary>
    public const int StoredPngMegabytes = 50;

    /// <summary>The largest file, in bytes.</summary>
    public long MaxFileBytes { get; init; } = 10 * 1024 * 1024;

    /// <summary>The most pixels the header may claim.</summary>
    public long MaxPixels { get; init; } = 16L * 1024 * 1024;

    /// <summary>The longest side the header may claim, in pixels.</summary>
    public int MaxSide { get; init; } = 8192;

    /// <summary>The most bytes one compressed text chunk (zTXt, compressed iTXt) may inflate to.</summary>
    public int MaxTextBytes { get; init; } = 256 * 1024;

    /// <summary>The most bytes all compressed text chunks of one file may inflate to together.</summary>
    public int MaxTotalTextBytes { get; init; } = 1024 * 1024;

    /// <summary>The most chunks a PNG may have (legitimate encoders write a few hundred IDATs at most).</summary>
    public int MaxChunks { get; init; } = 20_000;

    /// <summary>
    /// The most bytes ImageSharp may hold at once while decoding one image (pixel rows, JPEG coefficients,
    /// scan lines). A 16 MP progressive JPEG holds about 145 MB at its peak, a 16 MP PNG or baseline JPEG about 60 MB.
    /// </summary>
    public long MaxDecodeBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>How long one decode may take before it is abandoned.</summary>
    public TimeSpan DecodeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The sentence every refusal ends with.</summary>
    public string Summary =>
        $"T2I Studio reads PNG, JPEG and WebP images up to {MaxPixels / (1024 * 1024)} megapixels ({MaxSide} px a side) and {MaxFileBytes / (1024 * 1024)} MB, with text chunks up to {MaxTextBytes / 1024} KB.";
}
