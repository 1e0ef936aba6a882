using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace T2IStudio.Generation.Imaging;

/// <summary>
/// T2I Studio's own walk over a PNG's chunks: every length checked against the file, every CRC checked, the
/// header read, animation and unknown critical chunks refused. It rebuilds the file with only the chunks the
/// pixels need, so the decoder never inflates zTXt, iTXt or iCCP, and it reads text chunks through an inflater
/// whose output is capped.
/// </summary>
public static class PngChunks
{
    /// <summary>The 8-byte PNG signature.</summary>
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The largest eXIf chunk passed on to the decoder (it carries the orientation).</summary>
    private const int MaxExifBytes = 64 * 1024;

    /// <summary>One chunk: its type and where its data lies in the file.</summary>
    /// <param name="Type">The four-letter type.</param>
    /// <param name="Start">The offset of the chunk's length field.</param>
    /// <param name="DataLength">The length of its data.</param>
    public readonly record struct Chunk(string Type, int Start, int DataLength)
    {
        /// <summary>The offset of the chunk's data.</summary>
        public int DataStart => Start + 8;

        /// <summary>The whole chunk's length: length, type, data and CRC.</summary>
        public int TotalLength => DataLength + 12;
    }

    /// <summary>A checked PNG: its header and its chunks up to IEND.</summary>
    /// <param name="Header">Size and format.</param>
    /// <param name="Chunks">Every chunk, IHDR first, IEND last.</param>
    /// <param name="BitsPerPixel">Bit depth times channels.</param>
    /// <param name="Interlaced">Adam7 interlacing.</param>
    public sealed record Layout(ImageHeader Header, IReadOnlyList<Chunk> Chunks, int BitsPerPixel, bool Interlaced)
    {
        /// <summary>How many bytes the image data must inflate to: every scan line with its filter byte.</summary>
        public long RawBytes
        {
            get
            {
                long Lines(long width, long height) => width == 0 || height == 0 ? 0 : height * (1 + (width * BitsPerPixel + 7) / 8);
                var (w, h) = ((long)Header.Width, (long)Header.Height);
                if (!Interlaced)
                {
                    return Lines(w, h);
                }
                ReadOnlySpan<(int X, int Y, int Dx, int Dy)> passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];
                var total = 0L;
                foreach (var (x, y, dx, dy) in passes)
                {
                    total += Lines(Math.Max(0, (w - x + dx - 1) / dx), Math.Max(0, (h - y + dy - 1) / dy));
                }
                return total;
            }
        }
    }

    /// <summary>Walks and checks every chunk of <paramref name="data"/> (which starts with the signature).</summary>
    /// <exception cref="ImageRefusedException">Cut short, damaged, animated, too large, or not a PNG.</exception>
    public static Layout Walk(ReadOnlySpan<byte> data, ImageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (!data.StartsWith(Signature))
        {
            throw new ImageRefusedException($"This file is not a PNG image. {limits.Summary}");
        }
        var chunks = new List<Chunk>();
        ImageHeader? header = null;
        var (bitsPerPixel, interlaced) = (0, false);
        var at = Signature.Length;
        var sawData = false;
        while (true)
        {
            if (data.Length - at < 12)
            {
                throw new ImageRefusedException($"This PNG is cut short: it ends {(sawData ? "inside its image data" : "before its image data")}. {limits.Summary}");
            }
            var length = BinaryPrimitives.ReadUInt32BigEndian(data[at..]);
            var typeBytes = data.Slice(at + 4, 4);
            foreach (var b in typeBytes)
            {
                if (b is not ((>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z')))
                {
                    throw new ImageRefusedException($"This PNG is damaged: a chunk at byte {at} has no valid name. {limits.Summary}");
                }
            }
            var type = Encoding.ASCII.GetString(typeBytes);
            if (length > int.MaxValue || length > (uint)(data.Length - at - 12))
            {
                throw new ImageRefusedException($"This PNG is cut short: its {type} chunk claims {length:N0} bytes and the file ends first. {limits.Summary}");
            }
            var chunk = new Chunk(type, at, (int)length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(data[(chunk.DataStart + chunk.DataLength)..]);
            if (Crc(data.Slice(at + 4, 4 + chunk.DataLength)) != crc)
            {
                throw new ImageRefusedException($"This PNG is damaged: its {type} chunk fails its checksum. {limits.Summary}");
            }
            if (chunks.Count == 0)
            {
                if (type != "IHDR" || length != 13)
                {
                    throw new ImageRefusedException($"This PNG is damaged: it does not start with its header (IHDR). {limits.Summary}");
                }
                header = ReadHeader(data.Slice(chunk.DataStart, 13), limits);
                var ihdr = data.Slice(chunk.DataStart, 13);
                bitsPerPixel = ihdr[8] * (ihdr[9] switch { 2 => 3, 4 => 2, 6 => 4, _ => 1 });
                interlaced = ihdr[12] == 1;
            }
            else if (type == "IHDR")
            {
                throw new ImageRefusedException($"This PNG is damaged: it has two headers. {limits.Summary}");
            }
            if (chunks.Count >= limits.MaxChunks)
            {
                throw new ImageRefusedException($"This PNG has more than {limits.MaxChunks:N0} chunks. {limits.Summary}");
            }
            if (type is "acTL" or "fcTL" or "fdAT")
            {
                // The editor would show the animation while the job used one frame: refuse rather than guess.
                throw new ImageRefusedException($"This PNG is animated (APNG); T2I Studio reads still images only. {limits.Summary}");
            }
            if (char.IsUpper(type[0]) && type is not ("IHDR" or "PLTE" or "IDAT" or "IEND"))
            {
                throw new ImageRefusedException($"This PNG needs a chunk T2I Studio does not know ({type}). {limits.Summary}");
            }
            sawData |= type == "IDAT";
            chunks.Add(chunk);
            at += chunk.TotalLength;
            if (type == "IEND")
            {
                break;
            }
        }
        if (!sawData)
        {
            throw new ImageRefusedException($"This PNG has no image data (IDAT). {limits.Summary}");
        }
        return new Layout(header!, chunks, bitsPerPixel, interlaced);
    }

    /// <summary>
    /// The PNG rebuilt from the chunks the pixels need (IHDR, PLTE, tRNS, IDAT, a small eXIf for the orientation,
    /// IEND), byte for byte as they were: no text, colour profile or private chunk reaches the decoder.
    /// </summary>
    public static byte[] PixelsOnly(ReadOnlySpan<byte> data, Layout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var kept = layout.Chunks.Where(c => c.Type is "IHDR" or "PLTE" or "tRNS" or "IDAT" or "IEND" || (c.Type == "eXIf" && c.DataLength <= MaxExifBytes)).ToList();
        var output = new byte[Signature.Length + kept.Sum(c => (long)c.TotalLength)];
        Signature.CopyTo(output);
        var at = Signature.Length;
        foreach (var chunk in kept)
        {
            data.Slice(chunk.Start, chunk.TotalLength).CopyTo(output.AsSpan(at));
            at += chunk.TotalLength;
        }
        return output;
    }

    /// <summary>
    /// The text chunks (tEXt, zTXt, iTXt) by keyword, compressed or not, each inflated through a capped inflater.
    /// A compressed chunk that inflates past <see cref="ImageLimits.MaxTextBytes"/>, or compressed texts that together
    /// inflate past <see cref="ImageLimits.MaxTotalTextBytes"/>, are refused: that is a decompression bomb, not
    /// metadata. Uncompressed text is bounded by the file's size.
    /// A damaged text chunk is skipped. The first chunk of a keyword wins.
    /// </summary>
    /// <exception cref="ImageRefusedException">A text chunk over the bounds.</exception>
    public static IReadOnlyDictionary<string, string> ReadTexts(ReadOnlySpan<byte> data, Layout layout, ImageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(limits);
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        var inflated = 0L;
        foreach (var chunk in layout.Chunks)
        {
            if (chunk.Type is not ("tEXt" or "zTXt" or "iTXt"))
            {
                continue;
            }
            var body = data.Slice(chunk.DataStart, chunk.DataLength);
            var keywordEnd = body.IndexOf((byte)0);
            if (keywordEnd is < 1 or > 79)
            {
                continue;
            }
            var keyword = Encoding.Latin1.GetString(body[..keywordEnd]);
            var rest = body[(keywordEnd + 1)..];
            byte[]? bytes;
            Encoding encoding = Encoding.Latin1;
            switch (chunk.Type)
            {
                case "tEXt":
                    bytes = rest.ToArray();
                    break;
                case "zTXt":
                    bytes = rest.Length >= 1 && rest[0] == 0 ? Inflate(rest[1..], chunk.Type, limits) : null;
                    break;
                default:
                    // iTXt: compression flag, method, language tag\0, translated keyword\0, text (UTF-8).
                    if (rest.Length < 2)
                    {
                        continue;
                    }
                    var compressed = rest[0] == 1;
                    var afterLanguage = rest[2..].IndexOf((byte)0);
                    if (afterLanguage < 0)
                    {
                        continue;
                    }
                    var translated = rest[(3 + afterLanguage)..];
                    var afterTranslated = translated.IndexOf((byte)0);
                    if (afterTranslated < 0)
                    {
                        continue;
                    }
                    var text = translated[(afterTranslated + 1)..];
                    bytes = compressed ? (rest[1] == 0 ? Inflate(text, chunk.Type, limits) : null) : text.ToArray();
                    encoding = Encoding.UTF8;
                    break;
            }
            if (bytes is null)
            {
                continue;
            }
            if (chunk.Type == "zTXt" || (chunk.Type == "iTXt" && rest[0] == 1))
            {
                // Uncompressed text costs no more than its bytes in the file; inflated text is what is bounded.
                inflated += bytes.Length;
                if (inflated > limits.MaxTotalTextBytes)
                {
                    throw new ImageRefusedException($"This PNG carries more than {Size(limits.MaxTotalTextBytes)} of compressed text. {limits.Summary}");
                }
            }
            texts.TryAdd(keyword, encoding.GetString(bytes));
        }
        return texts;
    }

    /// <summary>
    /// Inflates the image data (all IDAT chunks) into a small scratch buffer, stopping once it holds every scan line,
    /// and refuses it when it is corrupt or ends early. ImageSharp 2.1.13's interlaced decoder spins forever on
    /// image data that ends early (found by the fuzz test), and a stream that inflates past what the picture needs
    /// is never read further.
    /// </summary>
    /// <exception cref="ImageRefusedException">The image data is corrupt or too short.</exception>
    public static void CheckImageData(ReadOnlySpan<byte> data, Layout layout, ImageLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(limits);
        using var idat = new MemoryStream();
        foreach (var chunk in layout.Chunks.Where(c => c.Type == "IDAT"))
        {
            idat.Write(data.Slice(chunk.DataStart, chunk.DataLength));
        }
        idat.Position = 0;
        var needed = layout.RawBytes;
        var scratch = new byte[64 * 1024];
        var inflated = 0L;
        try
        {
            using var zlib = new ZLibStream(idat, CompressionMode.Decompress);
            while (inflated < needed)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var read = zlib.Read(scratch, 0, (int)Math.Min(scratch.Length, needed - inflated));
                if (read == 0)
                {
                    break;
                }
                inflated += read;
            }
        }
        catch (InvalidDataException ex)
        {
            throw new ImageRefusedException($"This PNG is damaged: its image data is corrupt. {limits.Summary}", ex);
        }
        if (inflated < needed)
        {
            throw new ImageRefusedException($"This PNG is damaged or cut short: its image data ends after {inflated:N0} of {needed:N0} bytes. {limits.Summary}");
        }
    }

    /// <summary>"256 KB", "4 MB": a byte count as a person reads it.</summary>
    internal static string Size(long bytes) => bytes >= 1024 * 1024
        ? $"{bytes / (1024.0 * 1024):0.#} MB"
        : $"{Math.Max(1, bytes / 1024)} KB";

    // Inflates into a buffer that stops one byte past the limit: a bomb costs at most MaxTextBytes of work.
    private static byte[]? Inflate(ReadOnlySpan<byte> compressed, string type, ImageLimits limits)
    {
        using var input = new MemoryStream(compressed.ToArray(), writable: false);
        using var zlib = new ZLibStream(input, CompressionMode.Decompress);
        var buffer = new byte[Math.Min(limits.MaxTextBytes + 1, Math.Max(4096, compressed.Length * 4))];
        var filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    if (buffer.Length > limits.MaxTextBytes)
                    {
                        throw new ImageRefusedException($"This PNG carries a {type} text chunk that inflates past {Size(limits.MaxTextBytes)} (a decompression bomb). {limits.Summary}");
                    }
                    Array.Resize(ref buffer, Math.Min(limits.MaxTextBytes + 1, buffer.Length * 2));
                }
                var read = zlib.Read(buffer, filled, buffer.Length - filled);
                if (read == 0)
                {
                    break;
                }
                filled += read;
            }
        }
        catch (InvalidDataException)
        {
            return null; // damaged text: not worth refusing the picture for
        }
        return buffer.AsSpan(0, filled).ToArray();
    }

    private static readonly uint[] CrcTable = MakeCrcTable();

    private static uint[] MakeCrcTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            table[n] = c;
        }
        return table;
    }

    // PNG's CRC-32 (the same polynomial as zlib), over a chunk's type and data.
    private static uint Crc(ReadOnlySpan<byte> bytes)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        }
        return ~c;
    }

    private static ImageHeader ReadHeader(ReadOnlySpan<byte> ihdr, ImageLimits limits)
    {
        var width = BinaryPrimitives.ReadUInt32BigEndian(ihdr);
        var height = BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]);
        if (width is 0 or > int.MaxValue || height is 0 or > int.MaxValue)
        {
            throw new ImageRefusedException($"This PNG is damaged: its header claims a size of {width}×{height}. {limits.Summary}");
        }
        var header = new ImageHeader(ImageContainer.Png, (int)width, (int)height);
        ImageHeader.CheckSize(header, limits);
        var (depth, colour, compression, filter, interlace) = (ihdr[8], ihdr[9], ihdr[10], ihdr[11], ihdr[12]);
        var validDepth = colour switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            2 or 4 or 6 => depth is 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            _ => false,
        };
        if (!validDepth || compression != 0 || filter != 0 || interlace > 1)
        {
            throw new ImageRefusedException($"This PNG is damaged: its header names colour type {colour} at {depth} bits, which PNG does not have. {limits.Summary}");
        }
        return header;
    }
}
