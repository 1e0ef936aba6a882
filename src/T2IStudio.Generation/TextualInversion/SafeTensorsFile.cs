using System.Buffers.Binary;
using System.Text.Json;

namespace T2IStudio.Generation.TextualInversion;

/// <summary>One tensor of a safetensors file: its name and shape, checked, and its values widened to float when first asked for.</summary>
public sealed class SafeTensor
{
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly string _dtype;
    private float[]? _values;

    internal SafeTensor(string name, long[] shape, string dtype, ReadOnlyMemory<byte> bytes)
    {
        Name = name;
        Shape = shape;
        _dtype = dtype;
        _bytes = bytes;
    }

    /// <summary>Its key in the header.</summary>
    public string Name { get; }

    /// <summary>Its shape.</summary>
    public long[] Shape { get; }

    /// <summary>Its values, row-major, decoded on first use (a file's other tensors are never decoded).</summary>
    /// <exception cref="InvalidDataException">The values hold NaN or infinities.</exception>
    public float[] Values => _values ??= Decode();

    private float[] Decode()
    {
        var bytes = _bytes.Span;
        var values = new float[bytes.Length / (_dtype == "F32" ? 4 : 2)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = _dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16),
            };
        }
        if (!Array.TrueForAll(values, float.IsFinite))
        {
            throw new InvalidDataException($"Tensor '{Name}' holds NaN or infinite values.");
        }
        return values;
    }
}

/// <summary>
/// Reads safetensors files — an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
/// shape and byte range, then the data — for small files that come from the internet: the file and header
/// sizes and the tensor count are bounded, every shape and byte range is checked against the file before anything
/// is read (the ranges must tile the data section exactly, in order, as the format requires: no overlaps, no
/// gaps), and only F32, F16 and BF16 tensors are widened, each only when its values are asked for. Nothing in the file is executed (unlike pickled <c>.pt</c>).
/// </summary>
public static class SafeTensorsFile
{
    /// <summary>The largest file read (embeddings are kilobytes; this leaves room for many vectors).</summary>
    public const long MaxFileBytes = 64L << 20;

    /// <summary>The largest JSON header accepted.</summary>
    public const int MaxHeaderBytes = 1 << 20;

    /// <summary>The most tensors a file may hold (an embedding has one or two).</summary>
    public const int MaxTensors = 64;

    /// <summary>Reads the tensors of the file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed safetensors file this reader accepts; the message says why.</exception>
    public static IReadOnlyList<SafeTensor> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var length = new FileInfo(path).Length;
        if (length > MaxFileBytes)
        {
            throw new InvalidDataException($"{length:N0} bytes is more than an embedding file may hold ({MaxFileBytes:N0}).");
        }
        return Parse(File.ReadAllBytes(path));
    }

    /// <summary>Parses a whole safetensors file held in memory.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed safetensors file this reader accepts.</exception>
    public static IReadOnlyList<SafeTensor> Parse(byte[] file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.Length < 8)
        {
            throw new InvalidDataException("The file is too short to be safetensors (no 8-byte header length).");
        }
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength < 2 || headerLength > MaxHeaderBytes || headerLength > (ulong)(file.Length - 8))
        {
            throw new InvalidDataException($"The header length {headerLength:N0} does not fit the file ({file.Length:N0} bytes): not a safetensors file, or a truncated one.");
        }
        var data = file.AsMemory(8 + (int)headerLength);
        JsonDocument header;
        try
        {
            header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The header is not valid JSON: {ex.Message}", ex);
        }
        using (header)
        {
            if (header.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException("The header is not a JSON object.");
            }
            var tensors = new List<(SafeTensor Tensor, long Begin, long End)>();
            foreach (var entry in header.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    continue;
                }
                if (tensors.Count == MaxTensors)
                {
                    throw new InvalidDataException($"The file holds more than {MaxTensors} tensors; an embedding has one or two.");
                }
                tensors.Add(ReadTensor(entry, data));
            }
            // safetensors lays the tensors out back to back: sorted by offset, the ranges must tile the data exactly.
            var position = 0L;
            foreach (var (tensor, begin, end) in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
            {
                if (begin != position)
                {
                    throw new InvalidDataException(begin < position
                        ? $"Tensor '{tensor.Name}' at bytes {begin}..{end} overlaps the tensor before it (which ends at {position})."
                        : $"Tensor '{tensor.Name}' starts at byte {begin}, leaving a gap after byte {position}: the tensors must fill the data section back to back.");
                }
                position = end;
            }
            if (position != data.Length)
            {
                throw new InvalidDataException($"The tensors cover {position:N0} of the {data.Length:N0} data bytes: the rest belongs to no tensor.");
            }
            return [.. tensors.Select(t => t.Tensor)];
        }
    }

    private static (SafeTensor Tensor, long Begin, long End) ReadTensor(JsonProperty entry, ReadOnlyMemory<byte> data)
    {
        var name = entry.Name;
        var value = entry.Value;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
        {
            throw new InvalidDataException($"Tensor '{name}' lacks a dtype, a shape or two data_offsets.");
        }
        var dtype = dtypeElement.GetString()!;
        var itemSize = dtype switch
        {
            "F32" => 4,
            "F16" or "BF16" => 2,
            _ => throw new InvalidDataException($"Tensor '{name}' is {dtype}; embeddings must be F32, F16 or BF16."),
        };
        var shape = new List<long>();
        long count = 1;
        foreach (var dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out var size) || size < 0 || size > MaxFileBytes)
            {
                throw new InvalidDataException($"Tensor '{name}' has an invalid dimension {dimension}.");
            }
            shape.Add(size);
            count *= size; // each factor ≤ 64 Mi and the running product is checked below, so this cannot overflow
            if (count > MaxFileBytes)
            {
                throw new InvalidDataException($"Tensor '{name}' claims more elements than the file could hold.");
            }
        }
        if (shape.Count > 4)
        {
            throw new InvalidDataException($"Tensor '{name}' has rank {shape.Count}; embeddings are vectors or matrices.");
        }
        var offsets = offsetsElement.EnumerateArray().Select(o => o.ValueKind == JsonValueKind.Number && o.TryGetInt64(out var v) ? v : -1).ToArray();
        var (begin, end) = (offsets[0], offsets[1]);
        if (begin < 0 || end < begin || end > data.Length)
        {
            throw new InvalidDataException($"Tensor '{name}' lies at bytes {begin}..{end}, outside the file's {data.Length:N0} data bytes.");
        }
        if (end - begin != count * itemSize)
        {
            throw new InvalidDataException($"Tensor '{name}' has {end - begin} bytes for {count} {dtype} values ({count * itemSize} expected).");
        }
        return (new SafeTensor(name, [.. shape], dtype, data.Slice((int)begin, (int)(end - begin))), begin, end);
    }
}
