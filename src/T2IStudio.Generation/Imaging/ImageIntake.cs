using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace T2IStudio.Generation.Imaging;

/// <summary>How <see cref="ImageIntake"/> reads one file.</summary>
public sealed record IntakeOptions
{
    /// <summary>An upload: any of the three formats, reduced to <see cref="ImageIntake.UploadSide"/>.</summary>
    public static IntakeOptions Upload { get; } = new() { MaxKeptSide = ImageIntake.UploadSide };

    /// <summary>A file T2I Studio wrote itself or a painted mask: PNG only, kept at its size.</summary>
    public static IntakeOptions StoredPng { get; } = new() { PngOnly = true, Limits = ImageLimits.StoredPng };

    /// <summary>The limits the file is checked against.</summary>
    public ImageLimits Limits { get; init; } = ImageLimits.Default;

    /// <summary>When above 0, a larger picture is reduced (aspect kept) so its longest side is this many pixels.</summary>
    public int MaxKeptSide { get; init; }

    /// <summary>Refuse JPEG and WebP.</summary>
    public bool PngOnly { get; init; }

    /// <summary>When set, the header must claim exactly this size (a mask and its image).</summary>
    public (int Width, int Height)? ExpectedSize { get; init; }
}

/// <summary>A picture that passed the intake.</summary>
/// <param name="Image">The pixels, upright (EXIF orientation applied) and at the kept size.</param>
/// <param name="Header">What the file's header said (format and stored size).</param>
/// <param name="PeakDecodeBytes">The most bytes ImageSharp held at once while decoding it.</param>
public sealed record IntakeResult(RgbImage Image, ImageHeader Header, long PeakDecodeBytes);

/// <summary>A mask that passed the intake.</summary>
/// <param name="Mask">The mask (255 repaints, 0 keeps), upright and at the kept size.</param>
/// <param name="Header">What the file's header said (format and stored size).</param>
/// <param name="FromAlpha">The mask came from the file's alpha channel (it had transparency), not its grey levels.</param>
/// <param name="PeakDecodeBytes">The most bytes ImageSharp held at once while decoding it.</param>
public sealed record MaskIntakeResult(GrayMask Mask, ImageHeader Header, bool FromAlpha, long PeakDecodeBytes);

/// <summary>
/// The one way an untrusted image enters T2I Studio: uploads, painted masks, and PNGs read back by
/// <c>t2i inspect</c>, "Reuse parameters" and the worker. T2I Studio's own parser reads the header first
/// (<see cref="ImageHeader.Read"/>): format, size and animation are checked before ImageSharp sees a byte, so an
/// oversized or animated file is refused before any pixel buffer exists. A PNG reaches ImageSharp rebuilt from the
/// chunks the pixels need (<see cref="PngChunks.PixelsOnly"/>), so zTXt, iTXt and iCCP are never inflated by it;
/// text is read by <see cref="ReadText(ReadOnlySpan{byte}, ImageLimits?)"/> through a capped inflater. Each decode
/// runs on one thread with a memory budget (<see cref="ImageLimits.MaxDecodeBytes"/>) and a time limit, and an
/// upload is reduced once, here, to the size a job can use. Every failure is an <see cref="ImageRefusedException"/>
/// whose message a person can read.
/// </summary>
public static class ImageIntake
{
    /// <summary>
    /// The longest side an upload is kept at. Inpainting works on the whole picture at most at twice a model's
    /// native side (<see cref="MaskFiles.WorkingSize"/>: 2048 for a 1024-native model) and the result has the
    /// kept picture's size, so more pixels would only cost memory.
    /// </summary>
    public const int UploadSide = 2048;

    /// <summary>Only these decoders: no GIF, TIFF, BMP, TGA or PBM parsing of untrusted bytes.</summary>
    internal static Configuration Decoders => PngFiles.RestrictedConfiguration;

    /// <summary>Reads a whole file from <paramref name="stream"/> (at most the size limit) and decodes it.</summary>
    /// <exception cref="ImageRefusedException">The file is refused; the message says why.</exception>
    public static IntakeResult Read(Stream stream, IntakeOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= IntakeOptions.Upload;
        return Read(ReadCapped(stream, options.Limits), options, cancellationToken);
    }

    /// <summary>Checks and decodes <paramref name="data"/>.</summary>
    /// <exception cref="ImageRefusedException">The file is refused; the message says why.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static IntakeResult Read(ReadOnlySpan<byte> data, IntakeOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= IntakeOptions.Upload;
        var (pixels, header) = Check(data, options, cancellationToken);
        return Decode<Rgb24, IntakeResult>(pixels, header, options, (image, budget) =>
        {
            KeepWithin(image, options);
            var kept = new byte[image.Width * image.Height * 3];
            image.CopyPixelDataTo(kept);
            return new IntakeResult(new RgbImage(image.Width, image.Height, kept), header, budget.PeakBytes);
        }, cancellationToken);
    }

    /// <summary>
    /// Checks and decodes <paramref name="data"/> as a mask the way AUTOMATIC1111's <c>create_binary_mask</c> reads one:
    /// when the file has transparency (an alpha value below 255), the alpha channel thresholded (above 128 repaints,
    /// so transparent keeps); otherwise the grey level (ITU-R 601 luminance, white repaints).
    /// </summary>
    /// <exception cref="ImageRefusedException">The file is refused; the message says why.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static MaskIntakeResult ReadMask(ReadOnlySpan<byte> data, IntakeOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= IntakeOptions.Upload;
        var (pixels, header) = Check(data, options, cancellationToken);
        return Decode<Rgba32, MaskIntakeResult>(pixels, header, options, (image, budget) =>
        {
            // Before any resize: a resampled edge must not invent transparency in an opaque file.
            var fromAlpha = false;
            image.ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height && !fromAlpha; y++)
                {
                    foreach (var pixel in rows.GetRowSpan(y))
                    {
                        if (pixel.A != 255)
                        {
                            fromAlpha = true;
                            break;
                        }
                    }
                }
            });
            KeepWithin(image, options);
            var values = new byte[image.Width * image.Height];
            image.ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height; y++)
                {
                    var row = rows.GetRowSpan(y);
                    var line = values.AsSpan(y * rows.Width, rows.Width);
                    for (var x = 0; x < row.Length; x++)
                    {
                        var p = row[x];
                        line[x] = fromAlpha
                            ? (byte)(p.A > 128 ? 255 : 0)
                            : (byte)((p.R * 299 + p.G * 587 + p.B * 114 + 500) / 1000);
                    }
                }
            });
            return new MaskIntakeResult(new GrayMask(image.Width, image.Height, values), header, fromAlpha, budget.PeakBytes);
        }, cancellationToken);
    }

    /// <summary>
    /// Every text chunk of a PNG (tEXt, zTXt or iTXt) by keyword, read by T2I Studio's parser with a capped inflater;
    /// a JPEG or WebP has none. No pixel is decoded.
    /// </summary>
    /// <exception cref="ImageRefusedException">Not a readable PNG, JPEG or WebP, or its text is over the bounds.</exception>
    public static IReadOnlyDictionary<string, string> ReadAllText(ReadOnlySpan<byte> data, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        if (data.Length > limits.MaxFileBytes)
        {
            throw new ImageRefusedException($"This file is {PngChunks.Size(data.Length)}. {limits.Summary}");
        }
        if (!data.StartsWith(PngChunks.Signature))
        {
            _ = ImageHeader.Read(data, limits); // a JPEG or WebP has no text chunks; anything else is refused
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }
        return PngChunks.ReadTexts(data, PngChunks.Walk(data, limits), limits);
    }

    /// <summary>The checks made before any decoder runs; the bytes the decoder may see, and the header.</summary>
    private static (byte[] Pixels, ImageHeader Header) Check(ReadOnlySpan<byte> data, IntakeOptions options, CancellationToken cancellationToken)
    {
        var limits = options.Limits;
        if (data.Length > limits.MaxFileBytes)
        {
            throw new ImageRefusedException($"This file is {PngChunks.Size(data.Length)}. {limits.Summary}");
        }
        if (options.PngOnly && !data.StartsWith(PngChunks.Signature))
        {
            throw new ImageRefusedException($"This file is not a PNG image. {limits.Summary}");
        }
        // A PNG's chunks are walked once: the layout holds its header.
        var layout = data.StartsWith(PngChunks.Signature) ? PngChunks.Walk(data, limits) : null;
        var header = layout?.Header ?? ImageHeader.Read(data, limits);
        if (options.ExpectedSize is { } expected && (header.Width, header.Height) != expected)
        {
            throw new ImageRefusedException($"The mask is {header.Width}×{header.Height}; the image is {expected.Width}×{expected.Height}.");
        }
        byte[] pixels;
        if (layout is not null)
        {
            // Text is not needed for pixels, but a text bomb is refused the same way everywhere.
            _ = PngChunks.ReadTexts(data, layout, limits);
            PngChunks.CheckImageData(data, layout, limits, cancellationToken);
            pixels = PngChunks.PixelsOnly(data, layout);
        }
        else
        {
            pixels = data.ToArray();
        }
        return (pixels, header);
    }

    /// <summary>
    /// The <c>parameters</c> and <c>t2istudio</c> text of a PNG (tEXt, zTXt or iTXt), read by T2I Studio's parser
    /// with a capped inflater; a JPEG or WebP has none. No pixel is decoded.
    /// </summary>
    /// <exception cref="ImageRefusedException">Not a readable PNG, JPEG or WebP, or its text is over the bounds.</exception>
    public static PngTextChunks ReadText(ReadOnlySpan<byte> data, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        if (data.Length > limits.MaxFileBytes)
        {
            throw new ImageRefusedException($"This file is {PngChunks.Size(data.Length)}. {limits.Summary}");
        }
        if (!data.StartsWith(PngChunks.Signature))
        {
            _ = ImageHeader.Read(data, limits); // a JPEG or WebP has no text chunks; anything else is refused
            return new PngTextChunks(null, null);
        }
        var texts = PngChunks.ReadTexts(data, PngChunks.Walk(data, limits), limits);
        return new PngTextChunks(texts.GetValueOrDefault(PngFiles.ParametersKeyword), texts.GetValueOrDefault(PngFiles.RequestKeyword));
    }

    /// <summary>Reads at most the size limit (plus one byte, so an oversized file is recognised) from a stream.</summary>
    public static byte[] ReadCapped(Stream stream, ImageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(limits);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limits.MaxFileBytes)
            {
                throw new ImageRefusedException($"This file is larger than {PngChunks.Size(limits.MaxFileBytes)}. {limits.Summary}");
            }
        }
        return buffer.ToArray();
    }

    private static void KeepWithin<TPixel>(Image<TPixel> image, IntakeOptions options)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        var longest = Math.Max(image.Width, image.Height);
        if (options.MaxKeptSide > 0 && longest > options.MaxKeptSide)
        {
            var scale = (double)options.MaxKeptSide / longest;
            var width = Math.Max(1, (int)Math.Round(image.Width * scale));
            var height = Math.Max(1, (int)Math.Round(image.Height * scale));
            image.Mutate(c => c.Resize(width, height, KnownResamplers.Bicubic));
        }
    }

    private static TResult Decode<TPixel, TResult>(byte[] bytes, ImageHeader header, IntakeOptions options,
        Func<Image<TPixel>, DecodeBudget, TResult> keep, CancellationToken cancellationToken)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        var limits = options.Limits;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limits.DecodeTimeout);
        var budget = new DecodeBudget(limits.MaxDecodeBytes, timeout.Token);
        var configuration = Decoders.Clone();
        configuration.MemoryAllocator = budget;
        // One thread: the decode's allocations and time are the caller's, and one upload cannot take every core.
        configuration.MaxDegreeOfParallelism = 1;
        try
        {
            using var stream = new CancellableReadStream(bytes, timeout.Token);
            using var image = Image.Load<TPixel>(configuration, stream);
            if (image.Width != header.Width || image.Height != header.Height)
            {
                throw new ImageRefusedException($"This {header.FormatName} is damaged: its header says {header.Width}×{header.Height} but it decodes to {image.Width}×{image.Height}. {limits.Summary}");
            }
            // A camera JPEG's EXIF orientation: turn the pixels the way browsers show them, so a mask painted over
            // what the person sees lines up with what is decoded here.
            image.Mutate(c => c.AutoOrient());
            return keep(image, budget);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (ImageRefusedException)
        {
            throw;
        }
        catch (OperationCanceledException ex)
        {
            throw new ImageRefusedException($"This {header.FormatName} took longer than {limits.DecodeTimeout.TotalSeconds:0} s to decode. {limits.Summary}", ex);
        }
        catch (Exception ex) when (IsOverBudget(ex))
        {
            throw new ImageRefusedException($"This {header.FormatName} would need more than {PngChunks.Size(limits.MaxDecodeBytes)} of memory to decode. {limits.Summary}", ex);
        }
#pragma warning disable CA1031 // The bytes are hostile: whatever the decoder throws on them is a refusal, never a crash.
        catch (Exception ex) when (ex is not OutOfMemoryException and not StackOverflowException)
#pragma warning restore CA1031
        {
            throw new ImageRefusedException($"This {header.FormatName} is damaged or uses a feature T2I Studio does not read, so it could not be decoded. {limits.Summary}", ex);
        }
    }

    // ImageSharp wraps some errors of a decoder in its own exception; look through them.
    private static bool IsOverBudget(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is InvalidMemoryOperationException)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>A read-only stream over a byte array that stops when the decode is cancelled.</summary>
    private sealed class CancellableReadStream(byte[] bytes, CancellationToken cancellation) : MemoryStream(bytes, writable: false)
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            cancellation.ThrowIfCancellationRequested();
            return base.Read(buffer, offset, count);
        }

        public override int Read(Span<byte> buffer)
        {
            cancellation.ThrowIfCancellationRequested();
            return base.Read(buffer);
        }

        public override int ReadByte()
        {
            cancellation.ThrowIfCancellationRequested();
            return base.ReadByte();
        }
    }
}
