using System.Buffers.Binary;
using System.Text;

namespace T2IStudio.Generation.Onnx;

/// <summary>
/// Rewrites an fp16 ONNX model as fp32: every fp16 initializer, constant, graph input, output and value type becomes
/// fp32 and every <c>Cast</c> to fp16 a cast to fp32, so the graph computes in fp32 with the same weights. This is
/// diffusers' <c>upcast_vae()</c> for an exported graph: SDXL's VAE overflows fp16 (its config sets
/// <c>force_upcast</c>), and an fp16 export cannot otherwise be run in fp32.
/// </summary>
/// <remarks>
/// A streaming protobuf rewrite over the ONNX schema (ModelProto → GraphProto → NodeProto / TensorProto /
/// ValueInfoProto → TypeProto); fields it does not touch are copied byte for byte. Weights stored outside the
/// file (external data) are refused: read them in and the graph would no longer match its data files.
/// </remarks>
public static class Float16Upcast
{
    private const ulong Float = 1;
    private const ulong Float16 = 10;

    /// <summary>How deep messages may nest (a graph in an attribute in a node in a graph counts three); real models stay far below.</summary>
    public const int MaxDepth = 32;

    /// <summary>The fp32 form of the model in <paramref name="model"/>.</summary>
    /// <exception cref="NotSupportedException">The model keeps tensors in external data files.</exception>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed ONNX protobuf.</exception>
    public static byte[] Upcast(ReadOnlySpan<byte> model) => Rewrite(model, Message.Model, 0);

    private enum Message
    {
        Model,
        Graph,
        Node,
        Attribute,
        Tensor,
        ValueInfo,
        Type,
        TensorType,
        ElementHolder,
        MapType,
    }

    // Which fields of each message hold a message this rewrite descends into.
    private static Message? Child(Message message, int field) => (message, field) switch
    {
        (Message.Model, 7) => Message.Graph,
        (Message.Graph, 1) => Message.Node,
        (Message.Graph, 5) => Message.Tensor,
        (Message.Graph, 11 or 12 or 13) => Message.ValueInfo,
        (Message.Node, 5) => Message.Attribute,
        (Message.Attribute, 5 or 10) => Message.Tensor,
        (Message.Attribute, 6 or 11) => Message.Graph,
        (Message.Attribute, 14 or 15) => Message.Type,
        (Message.ValueInfo, 2) => Message.Type,
        (Message.Type, 1) => Message.TensorType,
        (Message.Type, 4 or 9) => Message.ElementHolder, // sequence_type / optional_type: elem_type (1) is a TypeProto
        (Message.Type, 5) => Message.MapType,
        (Message.ElementHolder, 1) => Message.Type,
        (Message.MapType, 2) => Message.Type,
        _ => null,
    };

    private static byte[] Rewrite(ReadOnlySpan<byte> data, Message message, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException($"The ONNX model nests messages more than {MaxDepth} deep: it is malformed or crafted.");
        }
        using var output = new MemoryStream(data.Length + data.Length / 2);
        var position = 0;
        string? attributeName = null;
        ulong tensorType = 0;
        while (position < data.Length)
        {
            var start = position;
            var tag = ReadVarint(data, ref position);
            var field = (int)(tag >> 3);
            var wire = (int)(tag & 7);
            switch (wire)
            {
                case 0:
                {
                    var value = ReadVarint(data, ref position);
                    var upcast = (message, field) switch
                    {
                        (Message.TensorType, 1) => true,                                       // elem_type
                        (Message.Tensor, 2) => true,                                           // data_type
                        (Message.Attribute, 3) => attributeName is "to" or "dtype",            // Cast's to, RandomNormal's dtype, …
                        _ => false,
                    };
                    if (message == Message.Tensor && field == 2)
                    {
                        tensorType = value;
                    }
                    if (message == Message.Tensor && field == 5 && tensorType == Float16)
                    {
                        // An unpacked int32_data element: fp16 bits, now one float_data element.
                        WriteTag(output, 4, 5);
                        WriteFloat(output, (float)BitConverter.UInt16BitsToHalf((ushort)value));
                        break;
                    }
                    WriteTag(output, field, 0);
                    WriteVarint(output, upcast && value == Float16 ? Float : value);
                    break;
                }
                case 1 or 5:
                {
                    var size = wire == 1 ? 8 : 4;
                    if (size > data.Length - position)
                    {
                        throw new InvalidDataException("The ONNX model is truncated inside a fixed-size field.");
                    }
                    position += size;
                    output.Write(data[start..position]);
                    break;
                }
                case 2:
                {
                    var declared = ReadVarint(data, ref position);
                    if (declared > (ulong)(data.Length - position))
                    {
                        throw new InvalidDataException($"A field of {declared:N0} bytes runs past the end of its message ({data.Length - position:N0} bytes left): the ONNX model is truncated or malformed.");
                    }
                    var length = (int)declared;
                    var payload = data.Slice(position, length);
                    position += length;
                    if (message == Message.Attribute && field == 1)
                    {
                        attributeName = Encoding.UTF8.GetString(payload);
                    }
                    if (message == Message.Tensor && field == 13)
                    {
                        throw new NotSupportedException("The fp16 graph keeps its weights in external data files, so it cannot be upcast to fp32 in memory.");
                    }
                    byte[]? replaced = null;
                    var replacedField = field;
                    if (Child(message, field) is { } child)
                    {
                        replaced = Rewrite(payload, child, depth + 1);
                    }
                    else if (message == Message.Tensor && tensorType == Float16 && field == 9)
                    {
                        replaced = HalvesToFloats(payload);                                    // raw_data
                    }
                    else if (message == Message.Tensor && tensorType == Float16 && field == 5)
                    {
                        replaced = PackedHalvesToFloats(payload);                              // packed int32_data → float_data
                        replacedField = 4;
                    }
                    if (replaced is null)
                    {
                        output.Write(data[start..position]);
                    }
                    else
                    {
                        WriteTag(output, replacedField, 2);
                        WriteVarint(output, (ulong)replaced.Length);
                        output.Write(replaced);
                    }
                    break;
                }
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {wire} in an ONNX model.");
            }
            if (position > data.Length)
            {
                throw new InvalidDataException("The ONNX model is truncated.");
            }
        }
        return output.ToArray();
    }

    private static byte[] HalvesToFloats(ReadOnlySpan<byte> raw)
    {
        var result = new byte[raw.Length * 2];
        for (var i = 0; i + 1 < raw.Length; i += 2)
        {
            var half = BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(raw[i..]));
            BinaryPrimitives.WriteSingleLittleEndian(result.AsSpan(i * 2), (float)half);
        }
        return result;
    }

    private static byte[] PackedHalvesToFloats(ReadOnlySpan<byte> packed)
    {
        using var output = new MemoryStream(packed.Length * 4);
        var position = 0;
        while (position < packed.Length)
        {
            WriteFloat(output, (float)BitConverter.UInt16BitsToHalf((ushort)ReadVarint(packed, ref position)));
        }
        return output.ToArray();
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length)
            {
                throw new InvalidDataException("The ONNX model is truncated.");
            }
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        throw new InvalidDataException("A protobuf varint is too long.");
    }

    private static void WriteVarint(MemoryStream output, ulong value)
    {
        while (value >= 0x80)
        {
            output.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        output.WriteByte((byte)value);
    }

    private static void WriteTag(MemoryStream output, int field, int wire) => WriteVarint(output, (ulong)((field << 3) | wire));

    private static void WriteFloat(MemoryStream output, float value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        output.Write(bytes);
    }
}
