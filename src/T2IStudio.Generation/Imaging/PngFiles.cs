using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace T2IStudio.Generation.Imaging;

/// <summary>The metadata chunks of a T2I Studio PNG.</summary>
/// <param name="Parameters">A1111's <c>parameters</c> text, if present.</param>
/// <param name="RequestJson">T2I Studio's <c>t2istudio</c> JSON (the full request), if present.</param>
public sealed record PngTextChunks(string? Parameters, string? RequestJson);

/// <summary>
/// Writes and reads PNGs. Writing is deterministic (same pixels and text → same bytes). Reading goes through
/// <see cref="ImageIntake"/>, which checks the header itself before the restricted ImageSharp configuration
/// (PNG, JPEG and WebP only) decodes, and refuses anything over <see cref="MaxPixels"/>.
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

    /// <summary>Reads the text chunks without decoding pixels, through <see cref="ImageIntake.ReadText"/>.</summary>
    /// <exception cref="ImageRefusedException">Not a PNG, JPEG or WebP image, or text over the bounds.</exception>
    public static PngTextChunks ReadText(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ImageIntake.ReadText(ImageIntake.ReadCapped(stream, ImageLimits.Default));
    }

    /// <summary>
    /// Decodes an untrusted image to RGB at its own size through <see cref="ImageIntake"/>: header checked first,
    /// metadata left out, decoded by a restricted decoder under a memory budget and turned upright by its EXIF
    /// orientation.
    /// </summary>
    /// <exception cref="ImageRefusedException">Not a supported image, or over the limits; the message says which.</exception>
    public static RgbImage Decode(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ImageIntake.Read(stream, new IntakeOptions()).Image;
    }

    /// <summary>
    /// Decodes a PNG the server or its workers made (a stored image, a job's source copy) under
    /// <see cref="IntakeOptions.StoredPng"/>: checked as strictly, but sized for the largest image the server produces.
    /// </summary>
    /// <exception cref="ImageRefusedException">Not a PNG, or over the stored-PNG limits.</exception>
    public static RgbImage DecodeStored(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ImageIntake.Read(stream, IntakeOptions.StoredPng).Image;
    }
}
