using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using T2IStudio.Generation.Onnx;

namespace T2IStudio.Generation.Upscaling;

/// <summary>An upscaler folder as the catalog lists it.</summary>
/// <param name="Id">The folder's name: stable, unique under a root, what requests name.</param>
/// <param name="Folder">The absolute folder path.</param>
/// <param name="IsAvailable">True when the folder holds a usable <c>model.onnx</c>.</param>
/// <param name="Problem">Why it is unavailable.</param>
/// <param name="Scale">How many times larger each side comes out (2 or 4 for the ESRGAN family); 0 when unavailable.</param>
/// <param name="DisplayName">The name people see (config.json's <c>name</c>, else the id).</param>
public sealed record UpscalerInfo(string Id, string Folder, bool IsAvailable, string? Problem, int Scale, string DisplayName);

/// <summary>
/// Finds upscaler folders (<c>upscalers/ID/model.onnx</c> with an optional <c>config.json</c>) under the model roots.
/// A broken folder is listed as unavailable with the reason, never an exception.
/// </summary>
/// <remarks>
/// The scale comes from the graph's static shapes (a fixed-size export), else from config.json's <c>scale</c>,
/// else from one trial run on a small image: real ESRGAN exports (RealESRGAN_x4plus, 4x-UltraSharp) leave height
/// and width free. A trial loads the weights once; its answer (a failure too) is remembered per file (path, length,
/// write time). List() keeps each folder's inspection until a file in it changes (the folder's, the graph's and
/// config.json's stamps), so pages and workers that list on every render cost a few file stats, not a graph read.
/// </remarks>
public sealed class UpscalerCatalog(IEnumerable<string> roots)
{
    /// <summary>The folder under each model root that holds upscalers.</summary>
    public const string FolderName = "upscalers";

    /// <summary>The graph file each upscaler folder holds.</summary>
    public const string GraphFile = "model.onnx";

    /// <summary>The side of the trial image a free-size graph is probed with: a multiple of 8 for window-based nets.</summary>
    internal const int ProbeSize = 32;

    /// <summary>
    /// The largest fixed input side a graph may declare: a tile is one run's input, and a graph that insists on a
    /// larger one (a 65536² export) would need gigabytes per tile. Free-size graphs run in smaller tiles anyway.
    /// </summary>
    public const int MaxFixedTileSide = 1024;

    // Lazy: two listings racing on a new file run its trial once, not twice.
    private static readonly ConcurrentDictionary<(string Path, long Length, DateTime Written), Lazy<ProbeResult>> Probed = new();

    private readonly string[] _roots = [.. roots.Select(Path.GetFullPath)];

    private readonly ConcurrentDictionary<string, (FolderStamp Stamp, UpscalerInfo Info)> _inspected = new(StringComparer.Ordinal);

    private int _inspections;

    /// <summary>How many folder inspections this catalog has made (a listing of unchanged folders makes none); for tests of the cache.</summary>
    internal int Inspections => _inspections;

    /// <summary>How many trial runs this process has made (each loads a graph); for tests of the cache.</summary>
    internal static int ProbeRuns => _probeRuns;

    private static int _probeRuns;

    /// <summary>Every upscaler folder under the roots, available or not, ordered by id.</summary>
    public IReadOnlyList<UpscalerInfo> List()
    {
        var found = new List<UpscalerInfo>();
        foreach (var root in _roots)
        {
            var folder = Path.Combine(root, FolderName);
            if (!Directory.Exists(folder))
            {
                continue;
            }
            found.AddRange(Directory.EnumerateDirectories(folder).Select(InspectCached));
        }
        return [.. found.OrderBy(u => u.Id, StringComparer.Ordinal)];
    }

    /// <summary>The upscaler with this id, or null.</summary>
    public UpscalerInfo? Find(string id) => List().FirstOrDefault(u => u.Id == id);

    /// <summary>The folder's inspection, redone only when the folder, its graph or its config.json changed.</summary>
    private UpscalerInfo InspectCached(string folder)
    {
        var stamp = FolderStamp.Of(folder);
        if (_inspected.TryGetValue(folder, out var cached) && cached.Stamp == stamp)
        {
            return cached.Info;
        }
        Interlocked.Increment(ref _inspections);
        var info = Inspect(folder);
        _inspected[folder] = (stamp, info);
        return info;
    }

    /// <summary>What an inspection depends on: the folder's entries (a graph added or renamed), the graph and config.json.</summary>
    private readonly record struct FolderStamp(DateTime Folder, long GraphLength, DateTime Graph, long ConfigLength, DateTime Config)
    {
        public static FolderStamp Of(string folder)
        {
            var graph = new FileInfo(Path.Combine(folder, GraphFile));
            var config = new FileInfo(Path.Combine(folder, "config.json"));
            return new FolderStamp(
                Directory.GetLastWriteTimeUtc(folder),
                graph.Exists ? graph.Length : -1, graph.Exists ? graph.LastWriteTimeUtc : default,
                config.Exists ? config.Length : -1, config.Exists ? config.LastWriteTimeUtc : default);
        }
    }

    /// <summary>Inspects one folder: its graph must take and give one [1, 3, H, W] float image.</summary>
    public static UpscalerInfo Inspect(string folder)
    {
        var id = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
        var name = id;
        var graph = Path.Combine(folder, GraphFile);
        try
        {
            int? configuredScale = null;
            var config = Path.Combine(folder, "config.json");
            if (File.Exists(config))
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(config));
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    if (doc.RootElement.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(n.GetString()))
                    {
                        name = n.GetString()!;
                    }
                    if (doc.RootElement.TryGetProperty("scale", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt32(out var scale))
                    {
                        configuredScale = scale;
                    }
                }
            }
            if (!File.Exists(graph))
            {
                var others = Directory.EnumerateFiles(folder, "*.onnx").Select(Path.GetFileName).ToList();
                var hint = others.Count == 0 ? "" : $" (rename {others[0]} to {GraphFile})";
                return new UpscalerInfo(id, folder, false, $"the folder has no {GraphFile}{hint}", 0, name);
            }
            var signature = OnnxGraphInspector.Read(graph);
            if (signature.Inputs.Count != 1 || signature.Outputs.Count != 1
                || signature.Inputs[0].Dimensions.Length != 4 || signature.Outputs[0].Dimensions.Length != 4
                || signature.Inputs[0].Dimensions[1] is not (3 or -1) || signature.Outputs[0].Dimensions[1] is not (3 or -1))
            {
                return new UpscalerInfo(id, folder, false, "the graph must take one [1, 3, H, W] image and give one", 0, name);
            }
            var input = signature.Inputs[0].Dimensions;
            var output = signature.Outputs[0].Dimensions;
            if (input[2] > MaxFixedTileSide || input[3] > MaxFixedTileSide)
            {
                return new UpscalerInfo(id, folder, false,
                    $"the graph takes a fixed {input[3]}×{input[2]} input; the largest tile side T2I Studio runs is {MaxFixedTileSide}", 0, name);
            }
            var fromShapes = ScaleFromShapes(input, output);
            if (fromShapes is { } shapes && configuredScale is { } configured && shapes != configured)
            {
                return new UpscalerInfo(id, folder, false, $"config.json says scale {configured} but the graph enlarges {shapes} times", 0, name);
            }
            var found = fromShapes ?? configuredScale ?? Probe(graph, input);
            if (found is < 1 or > 8)
            {
                return new UpscalerInfo(id, folder, false, $"scale {found} is outside 1–8", 0, name);
            }
            return new UpscalerInfo(id, folder, true, null, found, name);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or JsonException or UnauthorizedAccessException or ProbeException)
        {
            return new UpscalerInfo(id, folder, false, ex.Message, 0, name);
        }
    }

    /// <summary>Output side over input side when both are fixed in the graph (height and width must agree).</summary>
    private static int? ScaleFromShapes(long[] input, long[] output)
    {
        if (input[2] <= 0 || input[3] <= 0 || output[2] <= 0 || output[3] <= 0)
        {
            return null;
        }
        if (output[3] % input[3] != 0 || output[2] % input[2] != 0 || output[3] / input[3] != output[2] / input[2])
        {
            throw new ProbeException($"the graph turns {input[3]}×{input[2]} into {output[3]}×{output[2]}, not a whole enlargement");
        }
        return (int)Math.Min(output[3] / input[3], int.MaxValue); // a 2³²-fold claim must not wrap into 1–8
    }

    /// <summary>The scale of a free-size graph from one run on a small grey image, remembered per file.</summary>
    private static int Probe(string graph, long[] input)
    {
        var file = new FileInfo(graph);
        var result = Probed.GetOrAdd((file.FullName, file.Length, file.LastWriteTimeUtc), _ => new Lazy<ProbeResult>(() => RunProbe(graph, input))).Value;
        return result.Problem is null ? result.Scale : throw new ProbeException(result.Problem);
    }

    private static ProbeResult RunProbe(string graph, long[] input)
    {
        Interlocked.Increment(ref _probeRuns);
        var height = input[2] > 0 ? (int)input[2] : ProbeSize;
        var width = input[3] > 0 ? (int)input[3] : ProbeSize;
        try
        {
            using var component = new OnnxComponent(graph, new ExecutionDevice(DevicePreference.Cpu, shapeSessions: 0));
            var pixels = new float[3 * height * width];
            Array.Fill(pixels, 0.5f);
            var output = component.Run([ComponentInput.OfFloats(component.Inputs.Keys.Single(), pixels, 1, 3, height, width)]);
            var (outHeight, outWidth) = (output.Shape[2], output.Shape[3]);
            if (outWidth % width != 0 || outHeight % height != 0 || outWidth / width != outHeight / height)
            {
                return new ProbeResult(0, $"a trial run turned {width}×{height} into {outWidth}×{outHeight}, not a whole enlargement");
            }
            return new ProbeResult((int)(outWidth / width), null);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or ArgumentException or NotSupportedException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            return new ProbeResult(0, $"a trial run on a {width}×{height} image failed: {ex.Message}");
        }
    }

    private sealed record ProbeResult(int Scale, string? Problem);

    private sealed class ProbeException(string message) : Exception(message);
}
