using System.Buffers.Binary;
using System.Text;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace T2IStudio.Generation.Onnx;

/// <summary>Where a text encoder's token table is and how big.</summary>
/// <param name="TableName">The [rows, width] float initializer that the ids select rows of.</param>
/// <param name="Rows">Its rows.</param>
/// <param name="Width">Its width.</param>
/// <param name="IdCount">How many ids the encoder takes: the rows, or the length of an id map in front of the table.</param>
/// <param name="IdMapName">An integer initializer mapping CLIP ids to table rows (the embedded model's compact table), or null.</param>
public sealed record TokenTable(string TableName, long Rows, int Width, long IdCount, string? IdMapName);

/// <summary>
/// Grows a text encoder's token table in the serialized model, in memory, so new token ids (textual-inversion
/// triggers) select new rows: the table is the initializer a <c>Gather</c> reads with the ids that come from
/// the <c>input_ids</c> input (through the <c>Cast</c> and <c>Reshape</c> of Optimum's exports), [V, W] → [V + N, W] in
/// its own element type (fp32 or fp16). Where the ids first pass through an integer id map (the embedded model
/// maps CLIP ids onto a compact table), the map gets N entries pointing at the N new rows. Everything else in
/// the file is copied byte for byte. Models whose weights live in external data files are refused.
/// </summary>
public static class TokenTableRewriter
{
    /// <summary>Finds the token table of the text encoder serialized in <paramref name="model"/>.</summary>
    /// <exception cref="NotSupportedException">No token table is found, or the model keeps weights in external data.</exception>
    /// <exception cref="InvalidDataException">The bytes are not an ONNX model.</exception>
    public static TokenTable Find(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = GraphOf(model);
        return Locate(graph).Table;
    }

    /// <summary>
    /// The model with <paramref name="rows"/> (row-major [N × width], N ≥ 1) appended to its token table: ids
    /// <see cref="TokenTable.IdCount"/> … + N − 1 then select them.
    /// </summary>
    /// <exception cref="NotSupportedException">No token table is found, or the model keeps weights in external data.</exception>
    /// <exception cref="InvalidDataException">The rows do not match the table's width, or the bytes are not an ONNX model.</exception>
    public static byte[] AppendRows(byte[] model, float[] rows)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(rows);
        var graph = GraphOf(model);
        var (table, tableTensor, mapTensor) = Locate(graph);
        if (rows.Length == 0 || rows.Length % table.Width != 0)
        {
            throw new InvalidDataException($"{rows.Length} values are not whole rows of the token table's width {table.Width}.");
        }
        var added = rows.Length / table.Width;
        var replaced = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [table.TableName] = Grown(model, tableTensor, [table.Rows + added, table.Width], RowBytes(rows, tableTensor.DataType)),
        };
        if (mapTensor is not null)
        {
            var entries = Enumerable.Range(0, added).Select(i => table.Rows + i).ToArray();
            replaced[table.IdMapName!] = Grown(model, mapTensor, [table.IdCount + added], IdBytes(entries, mapTensor.DataType));
        }

        var newGraph = new MemoryStream(graph.Length + rows.Length * 4 + added * 8 + 64);
        foreach (var field in Fields(model, graph.Start, graph.End))
        {
            var name = field.Number is 5 or 11 or 13 && field.Wire == 2 ? NameOf(model, field, field.Number == 5 ? 8 : 1) : null;
            if (name is not null && replaced.TryGetValue(name, out var tensor))
            {
                if (field.Number == 5)
                {
                    WriteLengthDelimited(newGraph, 5, tensor);
                }
                // A graph input or value_info naming the table declares its old shape: dropped, the initializer says it.
                continue;
            }
            newGraph.Write(model, field.TagStart, field.End - field.TagStart);
        }
        var output = new MemoryStream(model.Length + (int)newGraph.Length - graph.Length + 16);
        foreach (var field in Fields(model, 0, model.Length))
        {
            if (field.Number == 7 && field.Wire == 2)
            {
                WriteLengthDelimited(output, 7, newGraph.GetBuffer().AsSpan(0, (int)newGraph.Length));
                continue;
            }
            output.Write(model, field.TagStart, field.End - field.TagStart);
        }
        return output.ToArray();
    }

    private static (TokenTable Table, Tensor TableTensor, Tensor? MapTensor) Locate(Slice graph)
    {
        var model = graph.Bytes;
        var nodes = new List<Node>();
        var initializers = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var field in Fields(model, graph.Start, graph.End))
        {
            if (field.Number == 1 && field.Wire == 2)
            {
                nodes.Add(ReadNode(model, field));
            }
            else if (field.Number == 5 && field.Wire == 2)
            {
                var tensor = ReadTensor(model, field);
                if (tensor.IsExternal)
                {
                    throw new NotSupportedException($"The text encoder keeps its weights in external data files (initializer '{tensor.Name}'); embeddings are added only to models whose weights are inside model.onnx.");
                }
                initializers[tensor.Name] = tensor;
            }
        }
        var idValues = Follow(nodes, ["input_ids"]);
        var gather = nodes.FirstOrDefault(n => n.OpType == "Gather" && n.Inputs.Count == 2 && idValues.Contains(n.Inputs[1]) && initializers.ContainsKey(n.Inputs[0]))
            ?? throw new NotSupportedException("No token table found: the text encoder has no Gather of an initializer by input_ids.");
        var first = initializers[gather.Inputs[0]];
        if (IsFloat(first.DataType) && first.Dims.Length == 2)
        {
            return (new TokenTable(first.Name, first.Dims[0], checked((int)first.Dims[1]), first.Dims[0], null), first, null);
        }
        if (first.DataType is TensorElementType.Int64 or TensorElementType.Int32 && first.Dims.Length == 1)
        {
            var mapped = Follow(nodes, [gather.Outputs[0]]);
            var second = nodes.FirstOrDefault(n => n.OpType == "Gather" && n.Inputs.Count == 2 && mapped.Contains(n.Inputs[1]) && initializers.TryGetValue(n.Inputs[0], out var t) && IsFloat(t.DataType) && t.Dims.Length == 2)
                ?? throw new NotSupportedException($"The ids pass through the map '{first.Name}' but no Gather of a [rows, width] table follows it.");
            var table = initializers[second.Inputs[0]];
            return (new TokenTable(table.Name, table.Dims[0], checked((int)table.Dims[1]), first.Dims[0], first.Name), table, first);
        }
        throw new NotSupportedException($"The Gather on input_ids reads '{first.Name}' ({first.DataType}, rank {first.Dims.Length}), which is not a token table.");
    }

    // The values that are still the ids of `start`, recast or reshaped (Optimum casts int32 ids to int64, and
    // CLIP views them as [-1, 77] before the lookup).
    private static HashSet<string> Follow(List<Node> nodes, IEnumerable<string> start)
    {
        var values = new HashSet<string>(start, StringComparer.Ordinal);
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var node in nodes.Where(n => n.OpType is "Cast" or "Identity" or "Reshape" or "Flatten" or "Squeeze" or "Unsqueeze"
                && n.Inputs.Count >= 1 && n.Outputs.Count == 1 && values.Contains(n.Inputs[0])))
            {
                grew |= values.Add(node.Outputs[0]);
            }
        }
        return values;
    }

    private static bool IsFloat(TensorElementType type) => type is TensorElementType.Float or TensorElementType.Float16;

    private static byte[] RowBytes(float[] rows, TensorElementType type)
    {
        if (type == TensorElementType.Float)
        {
            var bytes = new byte[rows.Length * 4];
            for (var i = 0; i < rows.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), rows[i]);
            }
            return bytes;
        }
        var halves = new byte[rows.Length * 2];
        for (var i = 0; i < rows.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(halves.AsSpan(2 * i), (Half)rows[i]);
        }
        return halves;
    }

    private static byte[] IdBytes(long[] ids, TensorElementType type)
    {
        var size = type == TensorElementType.Int64 ? 8 : 4;
        var bytes = new byte[ids.Length * size];
        for (var i = 0; i < ids.Length; i++)
        {
            if (size == 8)
            {
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8 * i), ids[i]);
            }
            else
            {
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * i), checked((int)ids[i]));
            }
        }
        return bytes;
    }

    // A TensorProto with the old values (raw_data or the typed repeated field) followed by `extra`, as raw_data.
    private static byte[] Grown(byte[] model, Tensor tensor, long[] dims, byte[] extra)
    {
        var old = ValueBytes(model, tensor);
        var output = new MemoryStream(old.Length + extra.Length + tensor.Name.Length + 64);
        var packed = new MemoryStream();
        foreach (var dim in dims)
        {
            WriteVarint(packed, (ulong)dim);
        }
        WriteLengthDelimited(output, 1, packed.ToArray());
        WriteVarint(output, (2 << 3) | 0);
        WriteVarint(output, (ulong)tensor.DataType);
        WriteLengthDelimited(output, 8, Encoding.UTF8.GetBytes(tensor.Name));
        WriteVarint(output, (9 << 3) | 2);
        WriteVarint(output, (ulong)(old.Length + extra.Length));
        output.Write(old);
        output.Write(extra);
        return output.ToArray();
    }

    private static byte[] ValueBytes(byte[] model, Tensor tensor)
    {
        var size = tensor.DataType switch
        {
            TensorElementType.Float or TensorElementType.Int32 => 4,
            TensorElementType.Float16 => 2,
            TensorElementType.Int64 => 8,
            var other => throw new NotSupportedException($"Token table '{tensor.Name}' is {other}; fp32, fp16, int32 and int64 are supported."),
        };
        var count = tensor.Dims.Aggregate(1L, (a, d) => checked(a * d));
        var expected = checked(count * size);
        byte[] bytes;
        if (tensor.RawData is { } raw)
        {
            bytes = model.AsSpan(raw.Start, raw.End - raw.Start).ToArray();
        }
        else
        {
            var values = new MemoryStream();
            Span<byte> item = stackalloc byte[8];
            foreach (var field in Fields(model, tensor.Start, tensor.End))
            {
                var typed = (tensor.DataType, field.Number) switch
                {
                    (TensorElementType.Float, 4) => true,
                    (TensorElementType.Float16 or TensorElementType.Int32, 5) => true,
                    (TensorElementType.Int64, 7) => true,
                    _ => false,
                };
                if (!typed)
                {
                    continue;
                }
                if (field.Number == 4)
                {
                    // float_data: packed (wire 2) or one fixed32 per field (wire 5)
                    values.Write(model, field.ValueStart, field.End - field.ValueStart);
                    continue;
                }
                var position = field.ValueStart;
                while (position < field.End)
                {
                    var value = ReadVarint(model, ref position, field.End);
                    switch (size)
                    {
                        case 2: BinaryPrimitives.WriteUInt16LittleEndian(item, (ushort)value); break;
                        case 4: BinaryPrimitives.WriteInt32LittleEndian(item, (int)value); break;
                        default: BinaryPrimitives.WriteInt64LittleEndian(item, (long)value); break;
                    }
                    values.Write(item[..size]);
                    if (field.Wire == 0)
                    {
                        break;
                    }
                }
            }
            bytes = values.ToArray();
        }
        if (bytes.Length != expected)
        {
            throw new InvalidDataException($"Token table '{tensor.Name}' holds {bytes.Length} bytes for {count} values ({expected} expected).");
        }
        return bytes;
    }

    private static Slice GraphOf(byte[] model)
    {
        foreach (var field in Fields(model, 0, model.Length))
        {
            if (field.Number == 7 && field.Wire == 2)
            {
                return new Slice(model, field.ValueStart, field.End);
            }
        }
        throw new InvalidDataException("The model has no graph: it is not an ONNX model.");
    }

    private static Node ReadNode(byte[] model, Field node)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var op = "";
        foreach (var field in Fields(model, node.ValueStart, node.End))
        {
            if (field.Wire != 2)
            {
                continue;
            }
            switch (field.Number)
            {
                case 1: inputs.Add(Text(model, field)); break;
                case 2: outputs.Add(Text(model, field)); break;
                case 4: op = Text(model, field); break;
            }
        }
        return new Node(op, inputs, outputs);
    }

    private static Tensor ReadTensor(byte[] model, Field tensorField)
    {
        var dims = new List<long>();
        var type = TensorElementType.DataTypeMax;
        var name = "";
        var external = false;
        ByteRange? raw = null;
        foreach (var field in Fields(model, tensorField.ValueStart, tensorField.End))
        {
            switch (field.Number, field.Wire)
            {
                case (1, 0): dims.Add((long)field.Value); break;
                case (1, 2):
                    for (var position = field.ValueStart; position < field.End;)
                    {
                        dims.Add((long)ReadVarint(model, ref position, field.End));
                    }
                    break;
                case (2, 0): type = (TensorElementType)(int)field.Value; break;
                case (8, 2): name = Text(model, field); break;
                case (9, 2): raw = new ByteRange(field.ValueStart, field.End); break;
                case (14, 0): external = field.Value == 1; break;
            }
        }
        return new Tensor(name, type, [.. dims], tensorField.ValueStart, tensorField.End, raw, external);
    }

    private static string? NameOf(byte[] model, Field message, int nameField)
    {
        foreach (var field in Fields(model, message.ValueStart, message.End))
        {
            if (field.Number == nameField && field.Wire == 2)
            {
                return Text(model, field);
            }
        }
        return null;
    }

    private static string Text(byte[] model, Field field) => Encoding.UTF8.GetString(model, field.ValueStart, field.End - field.ValueStart);

    private static IEnumerable<Field> Fields(byte[] bytes, int start, int end)
    {
        var position = start;
        while (position < end)
        {
            var tagStart = position;
            var tag = ReadVarint(bytes, ref position, end);
            var number = (int)(tag >> 3);
            var wire = (int)(tag & 7);
            ulong value = 0;
            int valueStart;
            switch (wire)
            {
                case 0:
                    valueStart = position;
                    value = ReadVarint(bytes, ref position, end);
                    break;
                case 1:
                    valueStart = position;
                    position += 8;
                    break;
                case 2:
                    var length = ReadVarint(bytes, ref position, end);
                    if (length > (ulong)(end - position))
                    {
                        throw new InvalidDataException("A field runs past the end of its message: the ONNX file is truncated or not ONNX.");
                    }
                    valueStart = position;
                    position += (int)length;
                    break;
                case 5:
                    valueStart = position;
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unknown protobuf wire type {wire}: not an ONNX file.");
            }
            if (position > end)
            {
                throw new InvalidDataException("The ONNX file is truncated.");
            }
            yield return new Field(number, wire, tagStart, valueStart, position, value);
        }
    }

    private static ulong ReadVarint(byte[] bytes, ref int position, int end)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= end)
            {
                throw new InvalidDataException("The ONNX file ends inside a field: it is truncated or not ONNX.");
            }
            var b = bytes[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
        throw new InvalidDataException("Malformed varint: not an ONNX file.");
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        stream.WriteByte((byte)value);
    }

    private static void WriteLengthDelimited(Stream stream, int number, ReadOnlySpan<byte> value)
    {
        WriteVarint(stream, (ulong)((number << 3) | 2));
        WriteVarint(stream, (ulong)value.Length);
        stream.Write(value);
    }

    private readonly record struct Field(int Number, int Wire, int TagStart, int ValueStart, int End, ulong Value);

    private readonly record struct Slice(byte[] Bytes, int Start, int End)
    {
        public int Length => End - Start;
    }

    private sealed record Node(string OpType, List<string> Inputs, List<string> Outputs);

    private sealed record ByteRange(int Start, int End);

    private sealed record Tensor(string Name, TensorElementType DataType, long[] Dims, int Start, int End, ByteRange? RawData, bool IsExternal);
}
