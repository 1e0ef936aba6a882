using Microsoft.AspNetCore.Components.Forms;
using T2IStudio.Generation.Imaging;

namespace T2IStudio.Web.Images;

/// <summary>What an upload came to: the picture kept for the job, or a message for the person.</summary>
/// <param name="Image">The upright picture at its kept size (longest side at most <see cref="ImageIntake.UploadSide"/>).</param>
/// <param name="Header">The file's format and stored size.</param>
/// <param name="Refusal">Why the file was not taken, in words for a person.</param>
public sealed record UploadOutcome(RgbImage? Image, ImageHeader? Header, string? Refusal)
{
    /// <summary>The file was read.</summary>
    public bool Succeeded => Image is not null;
}

/// <summary>What a mask upload came to: the mask, or a message for the person.</summary>
/// <param name="Mask">The mask at its kept size (255 repaints, 0 keeps), from the alpha channel when the file has transparency.</param>
/// <param name="Header">The file's format and stored size.</param>
/// <param name="Refusal">Why the file was not taken, in words for a person.</param>
public sealed record MaskUploadOutcome(GrayMask? Mask, ImageHeader? Header, string? Refusal)
{
    /// <summary>The file was read.</summary>
    public bool Succeeded => Mask is not null;
}

/// <summary>What reading an upload's text chunks came to: the texts by keyword, or a message for the person.</summary>
/// <param name="Texts">Every text chunk by keyword (none for a JPEG or WebP).</param>
/// <param name="Refusal">Why the file was not taken, in words for a person.</param>
public sealed record TextUploadOutcome(IReadOnlyDictionary<string, string>? Texts, string? Refusal)
{
    /// <summary>The file was read.</summary>
    public bool Succeeded => Texts is not null;
}

/// <summary>
/// The trust boundary for images people upload: the bytes are streamed with a size cap, then passed through
/// <see cref="ImageIntake"/> (header checked before any decoder runs, metadata never inflated by the decoder, a memory
/// budget and a time limit per decode) off the circuit's thread, and reduced once to the size a job can use. At most
/// two uploads decode at a time on the server, so a crowd of tabs cannot stack their decode budgets. Every failure
/// comes back as a message; nothing here throws for bad bytes.
/// </summary>
public sealed partial class ImageUploads(ILogger<ImageUploads> logger) : IDisposable
{
    private readonly SemaphoreSlim _decodes = new(2);

    /// <summary>The limits every upload is read under.</summary>
    public static ImageLimits Limits => ImageLimits.Default;

    /// <summary>Reads a file chosen in an <c>InputFile</c>.</summary>
    public Task<UploadOutcome> ReadAsync(IBrowserFile file, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.Size > Limits.MaxFileBytes)
        {
            return Task.FromResult(Refused(file.Name, $"This file is {file.Size / 1024.0 / 1024:0.#} MB. {Limits.Summary}"));
        }
        return ReadAsync(file.Name, () => file.OpenReadStream(Limits.MaxFileBytes, cancellationToken), cancellationToken);
    }

    /// <summary>Reads an upload from the stream <paramref name="open"/> gives.</summary>
    public Task<UploadOutcome> ReadAsync(string name, Func<Stream> open, CancellationToken cancellationToken = default) =>
        IntakeAsync(name, open, bytes =>
        {
            var result = ImageIntake.Read(bytes, IntakeOptions.Upload, cancellationToken);
            LogUploadRead(logger, name, result.Header.FormatName, result.Header.Width, result.Header.Height, result.Image.Width, result.Image.Height, result.PeakDecodeBytes / (1024 * 1024));
            return new UploadOutcome(result.Image, result.Header, null);
        }, refusal => new UploadOutcome(null, null, refusal), cancellationToken);

    /// <summary>
    /// Reads a mask from the stream <paramref name="open"/> gives, under the same limits and gate as
    /// <see cref="ReadAsync(string, Func{Stream}, CancellationToken)"/>: its alpha channel when the file has transparency
    /// (transparent keeps), else its grey levels (white repaints), as AUTOMATIC1111 reads a mask.
    /// </summary>
    public Task<MaskUploadOutcome> ReadMaskAsync(string name, Func<Stream> open, CancellationToken cancellationToken = default) =>
        IntakeAsync(name, open, bytes =>
        {
            var result = ImageIntake.ReadMask(bytes, IntakeOptions.Upload, cancellationToken);
            LogMaskRead(logger, name, result.Header.FormatName, result.Header.Width, result.Header.Height, result.FromAlpha, result.PeakDecodeBytes / (1024 * 1024));
            return new MaskUploadOutcome(result.Mask, result.Header, null);
        }, refusal => new MaskUploadOutcome(null, null, refusal), cancellationToken);

    /// <summary>
    /// Reads the text chunks of a picture from the stream <paramref name="open"/> gives, under the same limits and gate
    /// as <see cref="ReadAsync(string, Func{Stream}, CancellationToken)"/>; no pixel is decoded.
    /// </summary>
    public Task<TextUploadOutcome> ReadTextAsync(string name, Func<Stream> open, CancellationToken cancellationToken = default) =>
        IntakeAsync(name, open, bytes => new TextUploadOutcome(ImageIntake.ReadAllText(bytes, Limits), null),
            refusal => new TextUploadOutcome(null, refusal), cancellationToken);

    private async Task<T> IntakeAsync<T>(string name, Func<Stream> open, Func<byte[], T> read, Func<string, T> refused, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(open);
        byte[] bytes;
        try
        {
            await using var stream = open();
            bytes = await ReadCappedAsync(stream, cancellationToken);
        }
        catch (ImageRefusedException ex)
        {
            LogUploadRefused(logger, name, ex.Message);
            return refused(ex.Message);
        }
        catch (IOException ex)
        {
            LogUploadBroken(logger, ex, name);
            return refused("The upload did not arrive whole; try again.");
        }

        await _decodes.WaitAsync(cancellationToken);
        try
        {
            // CPU work of up to the decode limit: not on the circuit's synchronisation context.
            return await Task.Run(() => read(bytes), cancellationToken);
        }
        catch (ImageRefusedException ex)
        {
            LogUploadRefused(logger, name, ex.Message);
            return refused(ex.Message);
        }
        finally
        {
            _decodes.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _decodes.Dispose();

    private UploadOutcome Refused(string name, string message)
    {
        LogUploadRefused(logger, name, message);
        return new UploadOutcome(null, null, message);
    }

    private static async Task<byte[]> ReadCappedAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > Limits.MaxFileBytes)
            {
                throw new ImageRefusedException($"This file is larger than {Limits.MaxFileBytes / (1024 * 1024)} MB. {Limits.Summary}");
            }
        }
        return buffer.ToArray();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Mask {Name}: {Format} {Width}×{Height}, from its alpha channel: {FromAlpha}, {PeakMegabytes} MB at most while decoding")]
    private static partial void LogMaskRead(ILogger logger, string name, string format, int width, int height, bool fromAlpha, long peakMegabytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {Name} refused: {Reason}")]
    private static partial void LogUploadRefused(ILogger logger, string name, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upload {Name} did not arrive whole")]
    private static partial void LogUploadBroken(ILogger logger, Exception exception, string name);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Upload {Name}: {Format} {Width}×{Height} kept at {KeptWidth}×{KeptHeight}, {PeakMegabytes} MB at most while decoding")]
    private static partial void LogUploadRead(ILogger logger, string name, string format, int width, int height, int keptWidth, int keptHeight, long peakMegabytes);
}
