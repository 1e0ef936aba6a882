using System.Text.Json;
using System.Text.Json.Serialization;
using T2IStudio.Generation.Imaging;

namespace T2IStudio.Generation.Tests.Imaging;

/// <summary>One file of the crafted-input corpus (tools/corpus/make_corpus.py) and what the intake must do with it.</summary>
public sealed record CorpusEntry
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "TestData", "corpus");

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly Lazy<IReadOnlyList<CorpusEntry>> Manifest = new(() =>
        JsonSerializer.Deserialize<List<CorpusEntry>>(System.IO.File.ReadAllText(Path.Combine(Folder, "manifest.json")), Json)!);

    public static IReadOnlyList<CorpusEntry> All => Manifest.Value;

    public static CorpusEntry Named(string file) => All.Single(e => e.File == file);

    /// <summary>The size every corpus mask belongs to.</summary>
    public static (int Width, int Height) MaskImageSize => (64, 48);

    [JsonPropertyName("file")] public string File { get; init; } = "";

    /// <summary>accept, refuse or either.</summary>
    [JsonPropertyName("expect")] public string Expect { get; init; } = "";

    public string? Message { get; init; }

    public int Width { get; init; }

    public int Height { get; init; }

    /// <summary>x, y, r, g, b.</summary>
    public int[][] Pixels { get; init; } = [];

    public int Tolerance { get; init; }

    public string? Parameters { get; init; }

    public bool Mask { get; init; }

    public bool E2e { get; init; }

    public int? UploadWidth { get; init; }

    public int? UploadHeight { get; init; }

    /// <summary>Managed bytes the test lets one read of this file allocate, in MB.</summary>
    public int BudgetMB { get; init; } = 16;

    public byte[] Bytes() => System.IO.File.ReadAllBytes(Path.Combine(Folder, File));

    public override string ToString() => File;
}

/// <summary>What one trip through the intake gave: the picture, or the message, and the managed bytes it allocated.</summary>
public sealed record IntakeOutcome(RgbImage? Image, GrayMask? Mask, string? Refusal, long AllocatedBytes)
{
    /// <summary>
    /// Sends <paramref name="data"/> through the real intake on this thread with a generous time limit and counts
    /// the managed bytes it allocated (ImageSharp's buffers come from managed arrays, so the GC's counter sees them
    /// all). Anything but a picture or a refusal escapes and fails the test.
    /// </summary>
    public static IntakeOutcome Run(byte[] data, bool mask, IntakeOptions? options = null)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            if (mask)
            {
                var (width, height) = CorpusEntry.MaskImageSize;
                var decoded = MaskFiles.Decode(data, width, height);
                return new IntakeOutcome(null, decoded, null, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            var result = ImageIntake.Read(data, options ?? new IntakeOptions(), limit.Token);
            return new IntakeOutcome(result.Image, null, null, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        catch (ImageRefusedException ex)
        {
            return new IntakeOutcome(null, null, ex.Message, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        catch (InvalidDataException ex) when (mask)
        {
            return new IntakeOutcome(null, null, ex.Message, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }
}
