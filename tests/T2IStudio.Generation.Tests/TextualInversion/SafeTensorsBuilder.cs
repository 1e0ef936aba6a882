using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace T2IStudio.Generation.Tests.TextualInversion;

/// <summary>Writes safetensors files for tests, including deliberately broken ones.</summary>
internal sealed class SafeTensorsBuilder
{
    private readonly Dictionary<string, object> _header = [];
    private readonly List<byte> _data = [];

    /// <summary>Adds an F32 tensor (or F16 / BF16, narrowed from the given floats).</summary>
    public SafeTensorsBuilder Add(string name, long[] shape, float[] values, string dtype = "F32")
    {
        var begin = _data.Count;
        foreach (var v in values)
        {
            switch (dtype)
            {
                case "F32":
                    var f = new byte[4];
                    BinaryPrimitives.WriteSingleLittleEndian(f, v);
                    _data.AddRange(f);
                    break;
                case "F16":
                    var h = new byte[2];
                    BinaryPrimitives.WriteHalfLittleEndian(h, (Half)v);
                    _data.AddRange(h);
                    break;
                default:
                    var b = new byte[2];
                    BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)(BitConverter.SingleToInt32Bits(v) >> 16));
                    _data.AddRange(b);
                    break;
            }
        }
        return Raw(name, new { dtype, shape, data_offsets = new long[] { begin, _data.Count } });
    }

    /// <summary>Adds a header entry as given (to write lies about shapes and offsets).</summary>
    public SafeTensorsBuilder Raw(string name, object entry)
    {
        _header[name] = entry;
        return this;
    }

    public byte[] ToBytes(ulong? headerLength = null)
    {
        var header = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(_header));
        var bytes = new byte[8 + header.Length + _data.Count];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        _data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    public string WriteTo(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, ToBytes());
        return path;
    }

    /// <summary>An [count × width] block whose values say where they are: 100 + 10·row + column (+ offset).</summary>
    public static float[] Vectors(int count, int width, float offset = 0) =>
        [.. Enumerable.Range(0, count * width).Select(i => 100f + 10 * (i / width) + (i % width) + offset)];
}

/// <summary>A temporary folder, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "t2i-ti-" + Guid.NewGuid().ToString("N"));

    public string File(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
