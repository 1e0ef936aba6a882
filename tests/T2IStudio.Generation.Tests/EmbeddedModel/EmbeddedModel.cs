using T2IStudio.Generation.Models;
using T2IStudio.Generation.Onnx;

namespace T2IStudio.Generation.Tests.EmbeddedModel;

/// <summary>The embedded model committed under models/ (overridable with T2I_EMBEDDED_MODEL for a scratch export).</summary>
internal static class EmbeddedModel
{
    public const string Id = "t2istudio-tiny";

    public static string Folder { get; } = Environment.GetEnvironmentVariable("T2I_EMBEDDED_MODEL") is { Length: > 0 } overridden
        ? overridden
        : Path.Combine(RepositoryRoot.Path, "models", Id);

    public static string ReferencePath { get; } = Environment.GetEnvironmentVariable("T2I_EMBEDDED_REFERENCE") is { Length: > 0 } reference
        ? reference
        : Path.Combine(AppContext.BaseDirectory, "TestData", "tinymodel-reference.json");

    private static readonly Lazy<LoadedModel> Shared = new(() => LoadedModel.Load(ModelCatalog.Inspect(Folder), new ExecutionDevice(DevicePreference.Cpu)));

    /// <summary>One loaded copy for all tests (sessions are reused, as in the app).</summary>
    public static LoadedModel Model => Shared.Value;
}
