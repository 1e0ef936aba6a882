using System.Buffers.Binary;
using T2IStudio.Generation.TextualInversion;

namespace T2IStudio.Generation.Tests.TextualInversion;

public sealed class SafeTensorsFileTests
{
    [Fact]
    public void Reads_f32_f16_and_bf16_tensors_with_their_shapes()
    {
        var bytes = new SafeTensorsBuilder()
            .Add("a", [2, 3], [1, 2, 3, 4, 5, 6.5f])
            .Add("b", [2], [0.5f, -2], "F16")
            .Add("c", [1, 2], [1.5f, -3], "BF16")
            .Raw("__metadata__", new { format = "pt" })
            .ToBytes();

        var tensors = SafeTensorsFile.Parse(bytes).ToDictionary(t => t.Name);

        Assert.Equal(3, tensors.Count);
        Assert.Equal([2L, 3], tensors["a"].Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6.5f], tensors["a"].Values);
        Assert.Equal([0.5f, -2], tensors["b"].Values);
        Assert.Equal([1.5f, -3], tensors["c"].Values);
    }

    public static TheoryData<string, byte[]> Hostile()
    {
        var good = new SafeTensorsBuilder().Add("emb_params", [1, 4], [1, 2, 3, 4]);
        var huge = good.ToBytes(headerLength: ulong.MaxValue);
        var pastEnd = good.ToBytes(headerLength: 10_000);
        var bigHeader = good.ToBytes(headerLength: (ulong)SafeTensorsFile.MaxHeaderBytes + 1);
        var notJson = good.ToBytes();
        notJson[8] = (byte)'x';
        return new TheoryData<string, byte[]>
        {
            { "too short", [1, 2, 3] },
            { "header length past the file", pastEnd },
            { "header length near 2^64", huge },
            { "header over the limit", bigHeader },
            { "not JSON", notJson },
            { "offsets past the data", new SafeTensorsBuilder().Raw("emb_params", new { dtype = "F32", shape = new List<long> { 1, 4 }, data_offsets = new List<long> { 0, 4096 } }).ToBytes() },
            { "negative offset", new SafeTensorsBuilder().Add("x", [1], [1]).Raw("emb_params", new { dtype = "F32", shape = new List<long> { 1 }, data_offsets = new List<long> { -4, 0 } }).ToBytes() },
            { "shape larger than its bytes", new SafeTensorsBuilder().Add("x", [4], [1, 2, 3, 4]).Raw("emb_params", new { dtype = "F32", shape = new List<long> { 1000, 1000 }, data_offsets = new List<long> { 0, 16 } }).ToBytes() },
            { "overflowing shape", new SafeTensorsBuilder().Raw("emb_params", new { dtype = "F32", shape = new List<long> { long.MaxValue, long.MaxValue }, data_offsets = new List<long> { 0, 0 } }).ToBytes() },
            { "negative dimension", new SafeTensorsBuilder().Raw("emb_params", new { dtype = "F32", shape = new List<long> { -1 }, data_offsets = new List<long> { 0, 0 } }).ToBytes() },
            { "integer dtype", new SafeTensorsBuilder().Raw("emb_params", new { dtype = "I64", shape = new List<long> { 1 }, data_offsets = new List<long> { 0, 8 } }).ToBytes() },
            { "entry without offsets", new SafeTensorsBuilder().Raw("emb_params", new { dtype = "F32", shape = new List<long> { 1 } }).ToBytes() },
            { "NaN values", new SafeTensorsBuilder().Add("emb_params", [2], [float.NaN, 1]).ToBytes() },
            { "header is an array", ArrayHeader() },
            { "overlapping ranges", new SafeTensorsBuilder().Add("x", [2], [1, 2]).Raw("emb_params", new { dtype = "F32", shape = new List<long> { 1 }, data_offsets = new List<long> { 4, 8 } }).ToBytes() },
            { "a gap between tensors", Gap() },
            { "bytes after the last tensor", Trailing() },
            { "too many tensors", TooMany() },
        };
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Refuses_malformed_and_hostile_files_with_a_message(string what, byte[] bytes)
    {
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Parse(bytes).Select(t => t.Values).ToList());
        Assert.False(string.IsNullOrWhiteSpace(ex.Message), what);
    }

    [Theory]
    [InlineData("overlaps the tensor before it")]
    [InlineData("leaving a gap")]
    [InlineData("belongs to no tensor")]
    [InlineData("more than 64 tensors")]
    public void Refuses_ranges_that_do_not_tile_the_data_and_too_many_tensors_before_decoding_any(string message)
    {
        var bytes = message switch
        {
            "overlaps the tensor before it" => new SafeTensorsBuilder().Add("x", [2], [1, 2]).Raw("emb_params", new { dtype = "F32", shape = new List<long> { 1 }, data_offsets = new List<long> { 4, 8 } }).ToBytes(),
            "leaving a gap" => Gap(),
            "belongs to no tensor" => Trailing(),
            _ => TooMany(),
        };

        var ex = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Parse(bytes));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_the_tensors_asked_for_are_decoded()
    {
        var bytes = new SafeTensorsBuilder().Add("emb_params", [1, 2], [1, 2]).Add("junk", [2], [float.NaN, 1]).ToBytes();

        var tensors = SafeTensorsFile.Parse(bytes).ToDictionary(t => t.Name);

        Assert.Equal([1f, 2], tensors["emb_params"].Values);
        Assert.Contains("NaN", Assert.Throws<InvalidDataException>(() => tensors["junk"].Values).Message, StringComparison.Ordinal);
    }

    // Two tensors of 8 bytes each declared at 0..8 and 12..20 of 20 data bytes: bytes 8..12 belong to neither.
    private static byte[] Gap() => new SafeTensorsBuilder()
        .Add("a", [5], [1, 2, 3, 4, 5])
        .Raw("a", new { dtype = "F32", shape = new List<long> { 2 }, data_offsets = new List<long> { 0, 8 } })
        .Raw("b", new { dtype = "F32", shape = new List<long> { 2 }, data_offsets = new List<long> { 12, 20 } })
        .ToBytes();

    // One 4-byte tensor in 8 data bytes.
    private static byte[] Trailing() => new SafeTensorsBuilder()
        .Add("emb_params", [2], [1, 2])
        .Raw("emb_params", new { dtype = "F32", shape = new List<long> { 1 }, data_offsets = new List<long> { 0, 4 } })
        .ToBytes();

    private static byte[] TooMany()
    {
        var builder = new SafeTensorsBuilder();
        for (var i = 0; i <= SafeTensorsFile.MaxTensors; i++)
        {
            builder.Add($"t{i}", [1], [i]);
        }
        return builder.ToBytes();
    }

    [Fact]
    public void Refuses_a_file_over_the_size_limit_without_reading_it()
    {
        using var folder = new TempFolder();
        var path = folder.File("big.safetensors");
        using (var stream = File.Create(path))
        {
            stream.SetLength(SafeTensorsFile.MaxFileBytes + 1);
        }

        var ex = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(path));
        Assert.Contains("more than an embedding file may hold", ex.Message, StringComparison.Ordinal);
    }

    private static byte[] ArrayHeader()
    {
        var header = "[1,2,3]"u8.ToArray();
        var bytes = new byte[8 + header.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return bytes;
    }
}
