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

    public void Dispose() => Directory.Delete(_root, recursive: true);

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
