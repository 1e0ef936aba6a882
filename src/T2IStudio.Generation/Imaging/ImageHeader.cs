using System.Buffers.Binary;

namespace T2IStudio.Generation.Imaging;

/// <summary>The container formats T2I Studio decodes.</summary>
public enum ImageContainer
{
    /// <summary>PNG.</summary>
    Png,

    /// <summary>Baseline or progressive JPEG.</summary>
    Jpeg,

    /// <summary>Still WebP, lossy or lossless.</summary>
    Webp,
}

/// <summary>What a file's header says, read by T2I Studio's own parser before any decoder sees a byte.</summary>
/// <param name="Container">The format.</param>
/// <param name="Width">The stored width in pixels (before any EXIF rotation).</param>
/// <param name="Height">The stored height in pixels.</param>
public sealed record ImageHeader(ImageContainer Container, int Width, int Height)
{
    /// <summary>The format's name as people write it.</summary>
    public string FormatName => Container switch
    {
        ImageContainer.Png => "PNG",
        ImageContainer.Jpeg => "JPEG",
        _ => "WebP",
    };

    /// <summary>
    /// Reads the header of <paramref name="data"/> and checks it against <paramref name="limits"/>: the format is PNG,
    /// JPEG or WebP, still (not animated), and no larger than the limits allow. A PNG's chunks are all walked and
    /// checked (<see cref="PngChunks"/>); JPEG and WebP are read up to their frame header.
    /// </summary>
    /// <exception cref="ImageRefusedException">Anything else, with a message for a person.</exception>
    public static ImageHeader Read(ReadOnlySpan<byte> data, ImageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var header = Sniff(data, limits);
        CheckSize(header, limits);
        return header;
    }

    /// <summary>Refuses a header whose size is over the limits, before any pixel buffer exists.</summary>
    internal static void CheckSize(ImageHeader header, ImageLimits limits)
    {
        if (header.Width < 1 || header.Height < 1)
        {
            throw new ImageRefusedException($"This {header.FormatName} claims a size of {header.Width}×{header.Height}, which is no picture. {limits.Summary}");
        }
        if (header.Width > limits.MaxSide || header.Height > limits.MaxSide || (long)header.Width * header.Height > limits.MaxPixels)
        {
            var megapixels = (double)header.Width * header.Height / (1024 * 1024);
            throw new ImageRefusedException($"This {header.FormatName} is {header.Width}×{header.Height} ({megapixels.ToString(megapixels >= 100 ? "0" : "0.#", System.Globalization.CultureInfo.InvariantCulture)} megapixels). {limits.Summary}");
        }
    }

    private static ImageHeader Sniff(ReadOnlySpan<byte> data, ImageLimits limits)
    {
        if (data.StartsWith(PngChunks.Signature))
        {
            return PngChunks.Walk(data, limits).Header;
        }
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        {
            return ReadJpeg(data, limits);
        }
        if (data.Length >= 12 && data.StartsWith("RIFF"u8) && data.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            return ReadWebp(data, limits);
        }
        var other = data.StartsWith("GIF87a"u8) || data.StartsWith("GIF89a"u8) ? "a GIF"
            : data.StartsWith("BM"u8) ? "a BMP"
            : data.StartsWith("II*\0"u8) || data.StartsWith("MM\0*"u8) ? "a TIFF"
            : data.Length >= 12 && data.Slice(4, 4).SequenceEqual("ftyp"u8) ? "a HEIF or AVIF"
            : null;
        throw new ImageRefusedException(other is null
            ? $"This file is not a PNG, JPEG or WebP image. {limits.Summary}"
            : $"This file is {other} image. {limits.Summary}");
    }

    // JPEG: walk the marker segments up to the frame header (SOFn), which holds the size.
    private static ImageHeader ReadJpeg(ReadOnlySpan<byte> data, ImageLimits limits)
    {
        var at = 2;
        while (true)
        {
            if (at >= data.Length)
            {
                throw new ImageRefusedException($"This JPEG is cut short before its frame header. {limits.Summary}");
            }
            if (data[at] != 0xFF)
            {
                throw new ImageRefusedException($"This JPEG is damaged: its segments do not follow one another. {limits.Summary}");
            }
            while (at < data.Length && data[at] == 0xFF)
            {
                at++; // fill bytes
            }
            if (at >= data.Length)
            {
                throw new ImageRefusedException($"This JPEG is cut short before its frame header. {limits.Summary}");
            }
            var marker = data[at++];
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                continue; // no length
            }
            if (marker is 0xD9 or 0xDA or 0xD8)
            {
                throw new ImageRefusedException($"This JPEG is damaged: it has no frame header before its image data. {limits.Summary}");
            }
            if (at + 2 > data.Length)
            {
                throw new ImageRefusedException($"This JPEG is cut short before its frame header. {limits.Summary}");
            }
            var length = BinaryPrimitives.ReadUInt16BigEndian(data[at..]);
            if (length < 2 || at + length > data.Length)
            {
                throw new ImageRefusedException($"This JPEG is damaged or cut short: a segment runs past the end of the file. {limits.Summary}");
            }
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                if (marker is not (0xC0 or 0xC1 or 0xC2))
                {
                    var kind = marker is 0xC3 or 0xC7 or 0xCB or 0xCF ? "lossless" : marker >= 0xC9 ? "arithmetic-coded" : "hierarchical";
                    throw new ImageRefusedException($"This JPEG is {kind}; T2I Studio reads baseline and progressive JPEG. {limits.Summary}");
                }
                if (length < 8)
                {
                    throw new ImageRefusedException($"This JPEG is damaged: its frame header is too short. {limits.Summary}");
                }
                var height = BinaryPrimitives.ReadUInt16BigEndian(data[(at + 3)..]);
                var width = BinaryPrimitives.ReadUInt16BigEndian(data[(at + 5)..]);
                var components = data[at + 7];
                if (components is not (1 or 3 or 4))
                {
                    throw new ImageRefusedException($"This JPEG has {components} colour components; T2I Studio reads grey, colour and CMYK JPEG. {limits.Summary}");
                }
                return new ImageHeader(ImageContainer.Jpeg, width, height);
            }
            at += length;
        }
    }

    // WebP: a RIFF container; the first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended, with flags).
    private static ImageHeader ReadWebp(ReadOnlySpan<byte> data, ImageLimits limits)
    {
        var riffSize = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        if (riffSize < 4 || riffSize > data.Length - 8)
        {
            throw new ImageRefusedException($"This WebP is cut short or damaged: its RIFF size does not match the file. {limits.Summary}");
        }
        var body = data[12..(int)(8 + riffSize)];
        ImageHeader? canvas = null;
        ImageHeader? frame = null;
        var first = true;
        while (body.Length >= 8)
        {
            var fourCc = body[..4];
            var size = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
            if (size > body.Length - 8)
            {
                throw new ImageRefusedException($"This WebP is cut short or damaged: a chunk runs past the end of the file. {limits.Summary}");
            }
            var chunk = body.Slice(8, (int)size);
            if (fourCc.SequenceEqual("VP8X"u8))
            {
                if (!first || size < 10)
                {
                    throw new ImageRefusedException($"This WebP is damaged: its extended header is misplaced or short. {limits.Summary}");
                }
                if ((chunk[0] & 0x02) != 0)
                {
                    throw new ImageRefusedException($"This WebP is animated; T2I Studio reads still images only. {limits.Summary}");
                }
                canvas = new ImageHeader(ImageContainer.Webp, 1 + ReadUInt24(chunk[4..]), 1 + ReadUInt24(chunk[7..]));
                CheckSize(canvas, limits);
            }
            else if (fourCc.SequenceEqual("ANIM"u8) || fourCc.SequenceEqual("ANMF"u8))
            {
                throw new ImageRefusedException($"This WebP is animated; T2I Studio reads still images only. {limits.Summary}");
            }
            else if (fourCc.SequenceEqual("VP8 "u8) && frame is null)
            {
                // Frame tag (3 bytes, bit 0 clear on a key frame), start code 9D 01 2A, then 14-bit width and height.
                if (size < 10 || (chunk[0] & 1) != 0 || chunk[3] != 0x9D || chunk[4] != 0x01 || chunk[5] != 0x2A)
                {
                    throw new ImageRefusedException($"This WebP is damaged: its lossy frame header is not valid. {limits.Summary}");
                }
                frame = new ImageHeader(ImageContainer.Webp, BinaryPrimitives.ReadUInt16LittleEndian(chunk[6..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(chunk[8..]) & 0x3FFF);
            }
            else if (fourCc.SequenceEqual("VP8L"u8) && frame is null)
            {
                if (size < 5 || chunk[0] != 0x2F)
                {
                    throw new ImageRefusedException($"This WebP is damaged: its lossless header is not valid. {limits.Summary}");
                }
                var bits = BinaryPrimitives.ReadUInt32LittleEndian(chunk[1..]);
                frame = new ImageHeader(ImageContainer.Webp, (int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
            }
            else if (first)
            {
                throw new ImageRefusedException($"This WebP is damaged: it does not start with an image header. {limits.Summary}");
            }
            first = false;
            var advance = 8 + (int)size + (int)(size & 1);
            body = advance >= body.Length ? [] : body[advance..];
        }
        if (frame is null)
        {
            throw new ImageRefusedException($"This WebP has no image data. {limits.Summary}");
        }
        CheckSize(frame, limits);
        if (canvas is not null && (canvas.Width != frame.Width || canvas.Height != frame.Height))
        {
            throw new ImageRefusedException($"This WebP is damaged: its canvas is {canvas.Width}×{canvas.Height} but its image is {frame.Width}×{frame.Height}. {limits.Summary}");
        }
        return frame;
    }

    private static int ReadUInt24(ReadOnlySpan<byte> bytes) => bytes[0] | bytes[1] << 8 | bytes[2] << 16;
}
