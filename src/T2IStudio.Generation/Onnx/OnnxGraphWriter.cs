using System.Text;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace T2IStudio.Generation.Onnx;

/// <summary>
/// Writes small ONNX graphs (the serialized <c>ModelProto</c>) for the engine's own on-device arithmetic: a
/// sampler step, the UNet input, a copy back to the host. Only what those need — nodes with integer
/// attributes, typed inputs and outputs of any rank — encoded directly in protobuf's wire format, so the
/// engine needs no ONNX or protobuf package. Field numbers are onnx.proto's.
/// </summary>
public sealed class OnnxGraphWriter
{
    /// <summary>The opset the graphs use.</summary>
    public const int Opset = 17;

    private readonly List<byte[]> _nodes = [];
    private readonly List<byte[]> _inputs = [];
    private readonly List<byte[]> _outputs = [];
    private int _nextName;

    /// <summary>Declares a graph input of <paramref name="type"/> (any shape; a rank-0 scalar when <paramref name="scalar"/>).</summary>
    public string Input(string name, TensorElementType type, bool scalar = false)
    {
        _inputs.Add(ValueInfo(name, type, scalar));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> (a node output) as the graph output <paramref name="name"/>.</summary>
    public void Output(string value, string name, TensorElementType type)
    {
        if (value != name)
        {
            Node("Identity", [value], [name]);
        }
        _outputs.Add(ValueInfo(name, type, scalar: false));
    }

    /// <summary>Adds one node; returns its first output's name.</summary>
    public string Node(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string>? outputs = null, IReadOnlyDictionary<string, long>? attributes = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        outputs ??= [$"v{_nextName++}"];
        var node = new ProtoWriter();
        foreach (var input in inputs)
        {
            node.String(1, input);
        }
        foreach (var output in outputs)
        {
            node.String(2, output);
        }
        node.String(3, $"n{_nodes.Count}");
        node.String(4, opType);
        foreach (var (name, value) in attributes ?? new Dictionary<string, long>())
        {
            var attribute = new ProtoWriter();
            attribute.String(1, name);
            attribute.Varint(3, value);
            attribute.Varint(20, 2); // AttributeType.INT
            node.Message(5, attribute);
        }
        _nodes.Add(node.ToArray());
        return outputs[0];
    }

    /// <summary><paramref name="a"/> op <paramref name="b"/> for a binary elementwise op (Add, Sub, Mul).</summary>
    public string Binary(string opType, string a, string b) => Node(opType, [a, b]);

    /// <summary>The serialized model.</summary>
    public byte[] ToBytes(string graphName)
    {
        var graph = new ProtoWriter();
        foreach (var node in _nodes)
        {
            graph.Bytes(1, node);
        }
        graph.String(2, graphName);
        foreach (var input in _inputs)
        {
            graph.Bytes(11, input);
        }
        foreach (var output in _outputs)
        {
            graph.Bytes(12, output);
        }
        var opset = new ProtoWriter();
        opset.String(1, "");
        opset.Varint(2, Opset);
        var model = new ProtoWriter();
        model.Varint(1, 8); // IR version 8
        model.String(2, "T2IStudio");
        model.Message(7, graph);
        model.Message(8, opset);
        return model.ToArray();
    }

    private static byte[] ValueInfo(string name, TensorElementType type, bool scalar)
    {
        var tensor = new ProtoWriter();
        tensor.Varint(1, (long)type); // TensorElementType uses onnx's TensorProto.DataType numbering
        if (scalar)
        {
            tensor.Message(2, new ProtoWriter()); // an empty shape: rank 0
        }
        var typeProto = new ProtoWriter();
        typeProto.Message(1, tensor);
        var info = new ProtoWriter();
        info.String(1, name);
        info.Message(2, typeProto);
        return info.ToArray();
    }

    /// <summary>Protobuf wire format: varints and length-delimited fields.</summary>
    private sealed class ProtoWriter
    {
        private readonly List<byte> _bytes = [];

        public void Varint(int field, long value)
        {
            Tag(field, 0);
            Raw((ulong)value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

        public void Bytes(int field, byte[] value)
        {
            Tag(field, 2);
            Raw((ulong)value.Length);
            _bytes.AddRange(value);
        }

        public byte[] ToArray() => [.. _bytes];

        private void Tag(int field, int wireType) => Raw((ulong)((field << 3) | wireType));

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.Add((byte)(value | 0x80));
                value >>= 7;
            }
            _bytes.Add((byte)value);
        }
    }
}
