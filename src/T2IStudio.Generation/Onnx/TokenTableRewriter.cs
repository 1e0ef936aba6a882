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
/// <remarks>
/// CLIP's legacy pooling (transformers' <c>CLIPTextTransformer</c> when <c>eos_token_id</c> is 2, as SDXL's
/// text_encoder_2 ships) takes the hidden state at <c>argmax(input_ids)</c>, trusting that EOS (49407) is the
/// largest id. New ids are larger, so every <c>ArgMax</c> fed by the ids gets a guard in front of it,
/// <c>Where(Less(ids, V), ids, 0)</c> with V the original id count: new ids count as 0 there and the pooled
/// output stays at EOS.
/// </remarks>
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

        var guards = PoolingGuards(graph, table.IdCount);
        var newGraph = new MemoryStream(graph.Length + rows.Length * 4 + added * 8 + 64);
        foreach (var field in Fields(model, graph.Start, graph.End))
        {
            if (field.Number == 1 && field.Wire == 2 && guards.TryGetValue(field.TagStart, out var guard))
            {
                foreach (var node in guard.Nodes)
                {
                    WriteLengthDelimited(newGraph, 1, node);
                }
                WriteLengthDelimited(newGraph, 1, WithFirstInput(model, field, guard.Guarded));
                continue;
            }
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
        foreach (var constant in guards.Values.SelectMany(g => g.Constants))
        {
            WriteLengthDelimited(newGraph, 5, constant);
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

    private sealed record Guard(byte[][] Nodes, byte[][] Constants, string Guarded);

    // For every ArgMax whose data input is still the ids (keyed by the node field's position in the model): the
    // nodes and constants of Where(Less(ids, V), ids, 0) and the name of its output, the ArgMax's new input.
    private static Dictionary<int, Guard> PoolingGuards(Slice graph, long vocabulary)
    {
        var model = graph.Bytes;
        var nodes = new List<Node>();
        var inputTypes = new Dictionary<string, TensorElementType>(StringComparer.Ordinal);
        foreach (var field in Fields(model, graph.Start, graph.End))
        {
            if (field.Number == 1 && field.Wire == 2)
            {
                nodes.Add(ReadNode(model, field));
            }
            else if (field.Number == 11 && field.Wire == 2 && InputType(model, field) is { } input)
            {
                inputTypes[input.Name] = input.Type;
            }
        }
        var idValues = Follow(nodes, ["input_ids"]);
        var producers = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            foreach (var output in node.Outputs)
            {
                producers.TryAdd(output, node);
            }
        }
        var guards = new Dictionary<int, Guard>();
        foreach (var argMax in nodes.Where(n => n.OpType == "ArgMax" && n.Inputs.Count >= 1 && idValues.Contains(n.Inputs[0])))
        {
            var ids = argMax.Inputs[0];
            var type = IdType(ids, producers, inputTypes);
            var prefix = $"t2istudio_ti_guard_{guards.Count}_";
            var limit = ScalarTensor(prefix + "vocabulary", type, vocabulary);
            var zero = ScalarTensor(prefix + "zero", type, 0);
            var guarded = prefix + "ids";
            byte[][] added =
            [
                NodeBytes("Less", [ids, prefix + "vocabulary"], prefix + "original", prefix + "less"),
                NodeBytes("Where", [prefix + "original", ids, prefix + "zero"], guarded, prefix + "where"),
            ];
            guards[argMax.TagStart] = new Guard(added, [limit, zero], guarded);
        }
        return guards;
    }

    // The element type of a value that is still the ids: the last Cast's target, else the graph input's type.
    private static TensorElementType IdType(string value, Dictionary<string, Node> producers, Dictionary<string, TensorElementType> inputTypes)
    {
        for (var hops = 0; hops <= producers.Count; hops++)
        {
            if (producers.TryGetValue(value, out var node))
            {
                if (node.OpType == "Cast")
                {
                    return node.CastTo is { } to ? (TensorElementType)(int)to : throw new NotSupportedException($"The Cast '{value}' in front of the pooling ArgMax has no target type.");
                }
                value = node.Inputs[0];
                continue;
            }
            if (inputTypes.TryGetValue(value, out var type))
            {
                return type;
            }
            break;
        }
        throw new NotSupportedException($"The element type of '{value}', which the text encoder's pooling ArgMax reads, could not be found.");
    }

    private static byte[] ScalarTensor(string name, TensorElementType type, long value)
    {
        var raw = type switch
        {
            TensorElementType.Int64 => BitConverter.GetBytes(value),
            TensorElementType.Int32 => BitConverter.GetBytes(checked((int)value)),
            TensorElementType.Float => BitConverter.GetBytes((float)value),
            var other => throw new NotSupportedException($"The text encoder pools by ArgMax over {other} ids; int32, int64 and float ids can be guarded against the new token ids."),
        };
        if (!BitConverter.IsLittleEndian)
        {
            Array.Reverse(raw);
        }
        var tensor = new MemoryStream();
        WriteVarint(tensor, (2 << 3) | 0);
        WriteVarint(tensor, (ulong)type);
        WriteLengthDelimited(tensor, 8, Encoding.UTF8.GetBytes(name));
        WriteLengthDelimited(tensor, 9, raw);
        return tensor.ToArray();
    }

    private static byte[] NodeBytes(string opType, string[] inputs, string output, string name)
    {
        var node = new MemoryStream();
        foreach (var input in inputs)
        {
            WriteLengthDelimited(node, 1, Encoding.UTF8.GetBytes(input));
        }
        WriteLengthDelimited(node, 2, Encoding.UTF8.GetBytes(output));
        WriteLengthDelimited(node, 3, Encoding.UTF8.GetBytes(name));
        WriteLengthDelimited(node, 4, Encoding.UTF8.GetBytes(opType));
        return node.ToArray();
    }

    // The NodeProto in `node` with its first input renamed to `input`; every other field as it was.
    private static byte[] WithFirstInput(byte[] model, Field node, string input)
    {
        var output = new MemoryStream(node.End - node.ValueStart + input.Length + 8);
        var renamed = false;
        foreach (var field in Fields(model, node.ValueStart, node.End))
        {
            if (!renamed && field.Number == 1 && field.Wire == 2)
            {
                WriteLengthDelimited(output, 1, Encoding.UTF8.GetBytes(input));
                renamed = true;
                continue;
            }
            output.Write(model, field.TagStart, field.End - field.TagStart);
        }
        return output.ToArray();
    }

    // A graph input's name and tensor element type (ValueInfoProto → TypeProto.tensor_type.elem_type), or null.
    private static (string Name, TensorElementType Type)? InputType(byte[] model, Field valueInfo)
    {
        string? name = null;
        TensorElementType? type = null;
        foreach (var field in Fields(model, valueInfo.ValueStart, valueInfo.End))
        {
            if (field.Number == 1 && field.Wire == 2)
            {
                name = Text(model, field);
            }
            else if (field.Number == 2 && field.Wire == 2)
            {
                foreach (var typeField in Fields(model, field.ValueStart, field.End).Where(f => f.Number == 1 && f.Wire == 2))
                {
                    foreach (var elem in Fields(model, typeField.ValueStart, typeField.End).Where(f => f.Number == 1 && f.Wire == 0))
                    {
                        type = (TensorElementType)(int)elem.Value;
                    }
                }
            }
        }
        return name is not null && type is { } t ? (name, t) : null;
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
        long? to = null;
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
                case 5 when NameOf(model, field, 1) == "to": to = IntAttribute(model, field); break;
            }
        }
        return new Node(op, inputs, outputs, node.TagStart, to);
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

    private static long? IntAttribute(byte[] model, Field attribute)
    {
        foreach (var field in Fields(model, attribute.ValueStart, attribute.End))
        {
            if (field.Number == 3 && field.Wire == 0)
            {
                return (long)field.Value;
            }
        }
        return null;
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

    private sealed record Node(string OpType, List<string> Inputs, List<string> Outputs, int TagStart, long? CastTo);

    private sealed record ByteRange(int Start, int End);

    private sealed record Tensor(string Name, TensorElementType DataType, long[] Dims, int Start, int End, ByteRange? RawData, bool IsExternal);
}
