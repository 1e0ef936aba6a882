using T2IStudio.Generation.Onnx;

namespace T2IStudio.Generation.Tests.Sdxl;

/// <summary>The fp16 → fp32 rewrite refuses crafted bytes with <see cref="InvalidDataException"/> instead of crashing the process.</summary>
public sealed class Float16UpcastTests
{
    [Fact]
    public void Graphs_nested_deeper_than_the_limit_are_refused_instead_of_overflowing_the_stack()
    {
        // ModelProto.graph → GraphProto.node → NodeProto.attribute → AttributeProto.g → GraphProto … 40 times over.
        var graph = Array.Empty<byte>();
        for (var i = 0; i < 40; i++)
        {
            graph = Field(1, Field(5, Field(6, graph)));
        }

        var ex = Assert.Throws<InvalidDataException>(() => Float16Upcast.Upcast(Field(7, graph)));
        Assert.Contains($"more than {Float16Upcast.MaxDepth} deep", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_within_the_limit_is_rewritten()
    {
        var graph = Array.Empty<byte>();
        for (var i = 0; i < 3; i++)
        {
            graph = Field(1, Field(5, Field(6, graph)));
        }
        var model = Field(7, graph);

        Assert.Equal(model, Float16Upcast.Upcast(model));
    }

    public static TheoryData<string, byte[]> Truncated() => new()
    {
        // graph field claiming 100 bytes with 3 left
        { "runs past the end", [0x3A, 100, 1, 2, 3] },
        // graph field claiming 2^63 bytes
        { "runs past the end", [0x3A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01] },
        // a fixed64 field (wire type 1) with 2 of its 8 bytes
        { "fixed-size field", [0x09, 1, 2] },
        // a fixed32 field (wire type 5) with 1 of its 4 bytes, inside the graph
        { "fixed-size field", [0x3A, 2, 0x0D, 1] },
    };

    [Theory]
    [MemberData(nameof(Truncated))]
    public void Lengths_past_the_end_of_the_data_are_refused_with_a_message(string message, byte[] bytes)
    {
        var ex = Assert.Throws<InvalidDataException>(() => Float16Upcast.Upcast(bytes));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    private static byte[] Field(int number, byte[] value)
    {
        var bytes = new List<byte>();
        Varint(bytes, (ulong)((number << 3) | 2));
        Varint(bytes, (ulong)value.Length);
        bytes.AddRange(value);
        return [.. bytes];
    }

    private static void Varint(List<byte> bytes, ulong value)
    {
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        bytes.Add((byte)value);
    }
}
