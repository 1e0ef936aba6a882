using System.Text.Json;
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
public sealed class UpscalerCatalog(IEnumerable<string> roots)
{
    /// <summary>The folder under each model root that holds upscalers.</summary>
    public const string FolderName = "upscalers";

    private readonly string[] _roots = [.. roots.Select(Path.GetFullPath)];

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
            found.AddRange(Directory.EnumerateDirectories(folder).Where(d => File.Exists(Path.Combine(d, "model.onnx"))).Select(Inspect));
        }
        return [.. found.OrderBy(u => u.Id, StringComparer.Ordinal)];
    }

    /// <summary>The upscaler with this id, or null.</summary>
    public UpscalerInfo? Find(string id) => List().FirstOrDefault(u => u.Id == id);

    /// <summary>Inspects one folder: its graph must take and give one [1, 3, H, W] float image.</summary>
    public static UpscalerInfo Inspect(string folder)
    {
        var id = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
        var name = id;
        int? configuredScale = null;
        try
        {
            var config = Path.Combine(folder, "config.json");
            if (File.Exists(config))
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(config));
                if (doc.RootElement.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
                {
                    name = n.GetString()!;
                }
                if (doc.RootElement.TryGetProperty("scale", out var s) && s.TryGetInt32(out var scale))
                {
                    configuredScale = scale;
                }
            }
            var signature = OnnxGraphInspector.Read(Path.Combine(folder, "model.onnx"));
            if (signature.Inputs.Count != 1 || signature.Outputs.Count != 1
                || signature.Inputs[0].Dimensions.Length != 4 || signature.Outputs[0].Dimensions.Length != 4)
            {
                return new UpscalerInfo(id, folder, false, "the graph must take one [1, 3, H, W] image and give one", 0, name);
            }
            var input = signature.Inputs[0].Dimensions;
            var output = signature.Outputs[0].Dimensions;
            var scaleFromShapes = input[3] > 0 && output[3] > 0 && output[3] % input[3] == 0 ? (int)(output[3] / input[3]) : (int?)null;
            var scaleFound = configuredScale ?? scaleFromShapes ?? 4;
            if (scaleFound is < 1 or > 8)
            {
                return new UpscalerInfo(id, folder, false, $"scale {scaleFound} is outside 1–8", 0, name);
            }
            return new UpscalerInfo(id, folder, true, null, scaleFound, name);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or JsonException or UnauthorizedAccessException)
        {
            return new UpscalerInfo(id, folder, false, ex.Message, 0, name);
        }
    }
}
