using System.Text;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace T2IStudio.Generation.Onnx;

/// <summary>A graph input or output as declared in the file.</summary>
/// <param name="Name">Its name.</param>
/// <param name="ElementType">Its element type.</param>
/// <param name="Dimensions">Its shape; −1 for a symbolic dimension.</param>
public sealed record GraphValue(string Name, TensorElementType ElementType, long[] Dimensions);

/// <summary>A graph's declared inputs and outputs.</summary>
public sealed record GraphSignature(IReadOnlyList<GraphValue> Inputs, IReadOnlyList<GraphValue> Outputs)
{
    /// <summary>The input called <paramref name="name"/>, or null.</summary>
    public GraphValue? Input(string name) => Inputs.FirstOrDefault(i => i.Name == name);

    /// <summary>The output called <paramref name="name"/>, or null.</summary>
    public GraphValue? Output(string name) => Outputs.FirstOrDefault(o => o.Name == name);
}

/// <summary>
/// Reads a graph's inputs and outputs from the ONNX protobuf without loading weights: initializers are
/// skipped by their length, so listing a folder of multi-gigabyte models stays instant.
/// </summary>
public static class OnnxGraphInspector
{
    /// <summary>Reads the signature of the model at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not an ONNX model.</exception>
    public static GraphSignature Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var reader = new Reader(stream);
        var end = stream.Length;
        while (stream.Position < end)
        {
            var (field, wire) = reader.Tag();
            if (field == 7 && wire == 2)
            {
                var length = reader.Varint();
                return ReadGraph(reader, stream.Position + (long)length);
            }
            reader.Skip(wire);
        }
        throw new InvalidDataException($"{Path.GetFileName(path)} has no graph: it is not an ONNX model.");
    }

    private static GraphSignature ReadGraph(Reader reader, long end)
    {
        var inputs = new List<GraphValue>();
        var outputs = new List<GraphValue>();
        while (reader.Position < end)
        {
            var (field, wire) = reader.Tag();
            if ((field == 11 || field == 12) && wire == 2)
            {
                var length = (long)reader.Varint();
                (field == 11 ? inputs : outputs).Add(ReadValueInfo(reader, reader.Position + length));
            }
            else
            {
                reader.Skip(wire);
            }
        }
        return new GraphSignature(inputs, outputs);
    }

    private static GraphValue ReadValueInfo(Reader reader, long end)
    {
        var name = "";
        var type = TensorElementType.DataTypeMax;
        var dims = new List<long>();
        while (reader.Position < end)
        {
            var (field, wire) = reader.Tag();
            if (field == 1 && wire == 2)
            {
                name = reader.String();
            }
            else if (field == 2 && wire == 2)
            {
                var typeEnd = reader.Position + (long)reader.Varint();
                while (reader.Position < typeEnd)
                {
                    var (typeField, typeWire) = reader.Tag();
                    if (typeField == 1 && typeWire == 2)
                    {
                        (type, dims) = ReadTensorType(reader, reader.Position + (long)reader.Varint());
                    }
                    else
                    {
                        reader.Skip(typeWire);
                    }
                }
            }
            else
            {
                reader.Skip(wire);
            }
        }
        return new GraphValue(name, type, [.. dims]);
    }

    private static (TensorElementType, List<long>) ReadTensorType(Reader reader, long end)
    {
        var type = TensorElementType.DataTypeMax;
        var dims = new List<long>();
        while (reader.Position < end)
        {
            var (field, wire) = reader.Tag();
            if (field == 1 && wire == 0)
            {
                type = (TensorElementType)(int)reader.Varint();
            }
            else if (field == 2 && wire == 2)
            {
                var shapeEnd = reader.Position + (long)reader.Varint();
                while (reader.Position < shapeEnd)
                {
                    var (dimField, dimWire) = reader.Tag();
                    if (dimField == 1 && dimWire == 2)
                    {
                        dims.Add(ReadDimension(reader, reader.Position + (long)reader.Varint()));
                    }
                    else
                    {
                        reader.Skip(dimWire);
                    }
                }
            }
            else
            {
                reader.Skip(wire);
            }
        }
        return (type, dims);
    }

    private static long ReadDimension(Reader reader, long end)
    {
        long value = -1;
        while (reader.Position < end)
        {
            var (field, wire) = reader.Tag();
            if (field == 1 && wire == 0)
            {
                value = (long)reader.Varint();
            }
            else
            {
                reader.Skip(wire);
            }
        }
        return value;
    }

    private sealed class Reader(Stream stream)
    {
        public long Position => stream.Position;

        public (int Field, int Wire) Tag()
        {
            var tag = Varint();
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        public ulong Varint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = stream.ReadByte();
                if (b < 0)
                {
                    throw new InvalidDataException("The ONNX file ends inside a field: it is truncated or not ONNX.");
                }
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }
            throw new InvalidDataException("Malformed varint: not an ONNX file.");
        }

        public string String()
        {
            var length = (int)Varint();
            var buffer = new byte[length];
            stream.ReadExactly(buffer);
            return Encoding.UTF8.GetString(buffer);
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: stream.Seek(8, SeekOrigin.Current); break;
                case 2: stream.Seek((long)Varint(), SeekOrigin.Current); break;
                case 5: stream.Seek(4, SeekOrigin.Current); break;
                default: throw new InvalidDataException($"Unknown protobuf wire type {wire}: not an ONNX file.");
            }
            if (stream.Position > stream.Length)
            {
                throw new InvalidDataException("The ONNX file is truncated.");
            }
        }
    }
}
