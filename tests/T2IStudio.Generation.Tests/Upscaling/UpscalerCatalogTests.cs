using T2IStudio.Generation.Upscaling;
using static T2IStudio.Generation.Tests.Upscaling.UpscalerFixtures;

namespace T2IStudio.Generation.Tests.Upscaling;

public sealed class UpscalerCatalogTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("t2i-upscalers-").FullName;

    [Fact]
    public void The_scale_comes_from_fixed_shapes_from_config_json_or_from_one_trial_run()
    {
        var listed = new UpscalerCatalog([Root]).List().ToDictionary(u => u.Id);

        Assert.Equal(4, listed["x4-fixed"].Scale); // [1,3,32,32] → [1,3,128,128]
        Assert.Equal(2, listed["x2"].Scale);       // config.json
        Assert.Equal("Fixture x2", listed["x2"].DisplayName);
        Assert.Equal(4, listed["x4"].Scale);       // free sizes, no config: probed
        Assert.Equal(4, listed["x4-fp16"].Scale);
        Assert.All(listed.Values, u => Assert.True(u.IsAvailable, u.Problem));
    }

    [Fact]
    public void A_free_size_graph_is_probed_once_per_file_and_again_when_the_file_changes()
    {
        var folder = Add("probed", "x2"); // x2's graph without its config.json
        File.Delete(Path.Combine(folder, "config.json"));
        var catalog = new UpscalerCatalog([_root]);

        var before = UpscalerCatalog.ProbeRuns;
        Assert.Equal(2, catalog.Find("probed")!.Scale);
        Assert.Equal(2, catalog.Find("probed")!.Scale);
        Assert.Equal(2, catalog.List().Single().Scale);
        Assert.Equal(before + 1, UpscalerCatalog.ProbeRuns);

        File.Copy(Path.Combine(Folder("x4"), "model.onnx"), Path.Combine(folder, "model.onnx"), overwrite: true);
        File.SetLastWriteTimeUtc(Path.Combine(folder, "model.onnx"), DateTime.UtcNow.AddMinutes(1));
        Assert.Equal(4, catalog.Find("probed")!.Scale);
        Assert.Equal(before + 2, UpscalerCatalog.ProbeRuns);
    }

    [Fact]
    public void Broken_folders_are_listed_as_unavailable_with_the_reason()
    {
        Directory.CreateDirectory(Path.Combine(_root, UpscalerCatalog.FolderName, "garbage"));
        File.WriteAllText(Path.Combine(_root, UpscalerCatalog.FolderName, "garbage", "model.onnx"), "not a model");
        Directory.CreateDirectory(Path.Combine(_root, UpscalerCatalog.FolderName, "misnamed"));
        File.Copy(Path.Combine(Folder("x4"), "model.onnx"), Path.Combine(_root, UpscalerCatalog.FolderName, "misnamed", "4x-UltraSharp.onnx"));
        var disagreeing = Add("disagreeing", "x4-fixed");
        File.WriteAllText(Path.Combine(disagreeing, "config.json"), """{ "scale": 2 }""");
        var badJson = Add("bad-json", "x4");
        File.WriteAllText(Path.Combine(badJson, "config.json"), "{ scale: ");
        Add("fine", "x4");

        var listed = new UpscalerCatalog([_root]).List().ToDictionary(u => u.Id);

        Assert.Equal(["bad-json", "disagreeing", "fine", "garbage", "misnamed"], listed.Keys.Order(StringComparer.Ordinal));
        Assert.True(listed["fine"].IsAvailable);
        Assert.All(listed.Values.Where(u => u.Id != "fine"), u =>
        {
            Assert.False(u.IsAvailable);
            Assert.Equal(0, u.Scale);
            Assert.False(string.IsNullOrWhiteSpace(u.Problem));
        });
        Assert.Contains("rename 4x-UltraSharp.onnx to model.onnx", listed["misnamed"].Problem);
        Assert.Contains("config.json says scale 2 but the graph enlarges 4 times", listed["disagreeing"].Problem);
        Assert.Contains("not an ONNX", listed["garbage"].Problem);
    }

    [Fact]
    public void A_truncated_graph_is_unavailable_with_the_reason()
    {
        // A download cut short: the header reader or the trial run must say so, not throw.
        var folder = Add("wrong-channels", "x4");
        var graph = File.ReadAllBytes(Path.Combine(Folder("x4"), "model.onnx"));
        File.WriteAllBytes(Path.Combine(folder, "model.onnx"), graph[..(graph.Length / 2)]);

        var info = new UpscalerCatalog([_root]).Find("wrong-channels")!;

        Assert.False(info.IsAvailable);
        Assert.NotNull(info.Problem);
    }

    [Fact]
    public void A_graph_whose_trial_run_fails_is_unavailable_with_what_the_run_said()
    {
        var info = new UpscalerCatalog([Path.Combine(Root, "broken-upscalers")]).Find("one-channel")!;

        Assert.False(info.IsAvailable);
        Assert.StartsWith("a trial run on a 32×32 image failed:", info.Problem);
    }

    [Fact]
    public void Loading_an_unavailable_upscaler_says_why()
    {
        Directory.CreateDirectory(Path.Combine(_root, UpscalerCatalog.FolderName, "empty"));
        var info = new UpscalerCatalog([_root]).Find("empty")!;

        var error = Assert.Throws<InvalidOperationException>(() => LoadedUpscaler.Load(info, new Onnx.ExecutionDevice(Onnx.DevicePreference.Cpu)));
        Assert.Contains("has no model.onnx", error.Message);
    }

    [Fact]
    public void Listing_again_reinspects_nothing_until_a_file_in_a_folder_changes()
    {
        Add("fine", "x2");
        var broken = Path.Combine(_root, UpscalerCatalog.FolderName, "garbage");
        Directory.CreateDirectory(broken);
        File.WriteAllText(Path.Combine(broken, "model.onnx"), "not a model");
        var catalog = new UpscalerCatalog([_root]);

        var first = catalog.List();
        var second = catalog.List();
        Assert.NotNull(catalog.Find("garbage"));

        Assert.Equal(2, catalog.Inspections); // one per folder: the broken one's failure is remembered too
        Assert.Equal(first, second);

        var config = Path.Combine(_root, UpscalerCatalog.FolderName, "fine", "config.json");
        File.WriteAllText(config, """{ "name": "Renamed", "scale": 2 }""");
        File.SetLastWriteTimeUtc(config, DateTime.UtcNow.AddMinutes(1));
        Assert.Equal("Renamed", catalog.Find("fine")!.DisplayName);
        Assert.Equal(3, catalog.Inspections); // only the changed folder
    }

    [Theory]
    [InlineData(65536, 65536)]
    [InlineData(32, 1025)]
    public void A_graph_with_a_fixed_input_larger_than_the_largest_tile_is_unavailable(int width, int height)
    {
        var folder = Path.Combine(_root, UpscalerCatalog.FolderName, "huge");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, UpscalerCatalog.GraphFile), SignatureOnlyGraph([1, 3, height, width], [1, 3, 4L * height, 4L * width]));

        var info = new UpscalerCatalog([_root]).Find("huge")!;

        Assert.False(info.IsAvailable);
        Assert.Equal($"the graph takes a fixed {width}×{height} input; the largest tile side T2I Studio runs is 1024", info.Problem);
    }

    [Fact]
    public void A_graph_claiming_a_wrapping_enlargement_is_not_read_as_a_small_one()
    {
        // 2³² + 4 times: cast to int that would be 4.
        var folder = Path.Combine(_root, UpscalerCatalog.FolderName, "wraps");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, UpscalerCatalog.GraphFile), SignatureOnlyGraph([1, 3, 1, 1], [1, 3, (1L << 32) + 4, (1L << 32) + 4]));

        var info = new UpscalerCatalog([_root]).Find("wraps")!;

        Assert.False(info.IsAvailable);
        Assert.Contains("outside 1–8", info.Problem);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>An ONNX model with no nodes, only one float input and one float output of these shapes: what the catalog reads.</summary>
    private static byte[] SignatureOnlyGraph(long[] input, long[] output)
    {
        static byte[] Varint(ulong value)
        {
            var bytes = new List<byte>();
            while (value >= 0x80)
            {
                bytes.Add((byte)(value | 0x80));
                value >>= 7;
            }
            bytes.Add((byte)value);
            return [.. bytes];
        }
        static byte[] Number(int field, long value) => [.. Varint((ulong)(field << 3)), .. Varint((ulong)value)];
        static byte[] Message(int field, byte[] payload) => [.. Varint((ulong)((field << 3) | 2)), .. Varint((ulong)payload.Length), .. payload];
        static byte[] Value(string name, long[] dims)
        {
            var shape = dims.SelectMany(d => Message(1, Number(1, d))).ToArray();
            var tensor = Number(1, 1).Concat(Message(2, shape)).ToArray(); // elem_type FLOAT, shape
            return [.. Message(1, System.Text.Encoding.UTF8.GetBytes(name)), .. Message(2, Message(1, tensor))];
        }
        var graph = Message(11, Value("input", input)).Concat(Message(12, Value("output", output))).ToArray();
        return [.. Number(1, 8), .. Message(7, graph)];
    }

    private string Add(string id, string from)
    {
        var folder = Path.Combine(_root, UpscalerCatalog.FolderName, id);
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.EnumerateFiles(Folder(from)))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }
        return folder;
    }
}
