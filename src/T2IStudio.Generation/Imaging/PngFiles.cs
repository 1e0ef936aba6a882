using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace T2IStudio.Generation.Imaging;

/// <summary>The metadata chunks of a T2I Studio PNG.</summary>
/// <param name="Parameters">A1111's <c>parameters</c> text, if present.</param>
/// <param name="RequestJson">T2I Studio's <c>t2istudio</c> JSON (the full request), if present.</param>
public sealed record PngTextChunks(string? Parameters, string? RequestJson);

/// <summary>
/// Writes and reads PNGs. Writing is deterministic (same pixels and text → same bytes). Reading goes through
/// a restricted ImageSharp configuration that knows PNG, JPEG and WebP only, checks the size with
/// <c>Identify</c> before decoding, and refuses anything over <see cref="MaxPixels"/>.
/// </summary>
public static class PngFiles
{
    /// <summary>The A1111 keyword.</summary>
    public const string ParametersKeyword = "parameters";

    /// <summary>T2I Studio's keyword for the JSON request.</summary>
    public const string RequestKeyword = "t2istudio";

    /// <summary>The most pixels a decoded image may have (16 MP).</summary>
    public const long MaxPixels = 16L * 1024 * 1024;

    /// <summary>Only these decoders: no GIF, TIFF, BMP, TGA or PBM parsing of untrusted bytes.</summary>
    public static Configuration RestrictedConfiguration { get; } = new(new PngConfigurationModule(), new JpegConfigurationModule(), new WebpConfigurationModule());

    /// <summary>Encodes <paramref name="image"/> as PNG with the two text chunks.</summary>
    public static byte[] Encode(RgbImage image, string? parameters, string? requestJson)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var png = Image.LoadPixelData<Rgb24>(image.Pixels, image.Width, image.Height);
        var metadata = png.Metadata.GetPngMetadata();
        if (parameters is not null)
        {
            metadata.TextData.Add(new PngTextData(ParametersKeyword, parameters, "", ""));
        }
        if (requestJson is not null)
        {
            metadata.TextData.Add(new PngTextData(RequestKeyword, requestJson, "", ""));
        }
        using var output = new MemoryStream();
        png.Save(output, new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8, TextCompressionThreshold = int.MaxValue });
        return output.ToArray();
    }

    /// <summary>Reads the text chunks without decoding pixels.</summary>
    /// <exception cref="InvalidImageContentException">Not a PNG, JPEG or WebP image.</exception>
    public static PngTextChunks ReadText(Stream stream)
    {
        var info = Image.Identify(RestrictedConfiguration, stream)
            ?? throw new InvalidImageContentException("The file is not a PNG, JPEG or WebP image.");
        var text = info.Metadata.GetPngMetadata().TextData;
        return new PngTextChunks(
            text.FirstOrDefault(t => t.Keyword == ParametersKeyword).Value,
            text.FirstOrDefault(t => t.Keyword == RequestKeyword).Value);
    }

    /// <summary>
    /// Decodes an untrusted image to RGB: identified first, size-checked, then decoded by a restricted decoder and
    /// turned upright by its EXIF orientation.
    /// </summary>
    /// <exception cref="InvalidImageContentException">Not a supported image, or larger than <see cref="MaxPixels"/>.</exception>
    public static RgbImage Decode(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var start = stream.CanSeek ? stream.Position : throw new ArgumentException("The stream must be seekable.", nameof(stream));
        var info = Image.Identify(RestrictedConfiguration, stream)
            ?? throw new InvalidImageContentException("The file is not a PNG, JPEG or WebP image.");
        if ((long)info.Width * info.Height > MaxPixels)
        {
            throw new InvalidImageContentException($"The image is {info.Width}×{info.Height}; the limit is {MaxPixels / (1024 * 1024)} megapixels.");
        }
        stream.Position = start;
        using var image = Image.Load<Rgb24>(RestrictedConfiguration, stream);
        // A camera JPEG's EXIF orientation: turn the pixels the way browsers show them, so a mask painted over
        // what the person sees lines up with what is decoded here.
        image.Mutate(c => c.AutoOrient());
        var pixels = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(pixels);
        return new RgbImage(image.Width, image.Height, pixels);
    }
}
