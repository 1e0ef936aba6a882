using System.Buffers.Binary;
using System.Globalization;
using T2IStudio.Generation.Imaging;
using Xunit.Abstractions;

namespace T2IStudio.Generation.Tests.Imaging;

/// <summary>
/// A bounded fuzz run: mutations of the corpus's valid files (bit flips, truncations, chunk and segment length edits,
/// inserted and deleted bytes; for PNG half of them with their checksums repaired so the mutation reaches the
/// decoder) through the real intake. Every mutant is refused in words or read at a size within the limits, within
/// the memory budget, and nothing else escapes. CI runs a fixed seed and count; a longer run:
/// <c>T2I_FUZZ_COUNT=20000 T2I_FUZZ_SEED=7 dotnet test tests/T2IStudio.Generation.Tests --filter "FullyQualifiedName~ImageIntakeFuzzTests"</c>;
/// <c>T2I_FUZZ_DUMP=DIR</c> writes each mutant there before it is read.
/// </summary>
public sealed class ImageIntakeFuzzTests(ITestOutputHelper output)
{
    private const int DefaultCount = 5000;
    private const int DefaultSeed = 20261201;

    // The most managed bytes one read of a mutant may allocate: the decode budget plus the kept copy.
    private static readonly long Budget = ImageLimits.Default.MaxDecodeBytes + 64L * 1024 * 1024;

    [Fact]
    public void Mutated_valid_files_are_refused_in_words_or_read_within_the_limits_and_never_crash()
    {
        var count = Setting("T2I_FUZZ_COUNT", DefaultCount);
        var seed = Setting("T2I_FUZZ_SEED", DefaultSeed);
        var seeds = CorpusEntry.All.Where(e => e.Expect == "accept" && !e.Mask && e.BudgetMB <= 16).Select(e => (e.File, Bytes: e.Bytes())).ToList();
        // Where to write each mutant before it is read, so a crash or a hang in a long run can be replayed.
        var dump = Environment.GetEnvironmentVariable("T2I_FUZZ_DUMP");
        var random = new Random(seed);
        int accepted = 0, refused = 0;
        long most = 0;
        for (var i = 0; i < count; i++)
        {
            var (file, original) = seeds[random.Next(seeds.Count)];
            var (mutant, how) = Mutate(original, random);
            if (dump is not null)
            {
                File.WriteAllBytes(Path.Combine(dump, "current.bin"), mutant);
                File.WriteAllText(Path.Combine(dump, "current.txt"), $"mutant {i} of {file}: {how}");
            }
            IntakeOutcome outcome;
            try
            {
                outcome = IntakeOutcome.Run(mutant, mask: false, i % 2 == 0 ? IntakeOptions.Upload : new IntakeOptions());
                if (outcome.Refusal is null)
                {
                    _ = ImageIntake.ReadText(mutant);
                }
            }
            catch (Exception ex)
            {
                Assert.Fail($"Mutant {i} of {file} ({how}, seed {seed}) escaped the intake: {ex}");
                throw;
            }
            most = Math.Max(most, outcome.AllocatedBytes);
            Assert.True(outcome.AllocatedBytes < Budget, $"Mutant {i} of {file} ({how}) allocated {outcome.AllocatedBytes / 1024 / 1024} MB.");
            if (outcome.Refusal is { } message)
            {
                refused++;
                Assert.EndsWith(ImageLimits.Default.Summary, message, StringComparison.Ordinal);
            }
            else
            {
                accepted++;
                var image = outcome.Image!;
                Assert.InRange((long)image.Width * image.Height, 1, ImageLimits.Default.MaxPixels);
                Assert.Equal(image.Width * image.Height * 3, image.Pixels.Length);
            }
        }
        output.WriteLine($"seed {seed}, {count} mutants: {accepted} read, {refused} refused, at most {most / 1024.0 / 1024:0.0} MB allocated by one read.");
        Assert.True(accepted > 0 && refused > 0, "The mutations should reach both outcomes.");
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    private static (byte[] Mutant, string How) Mutate(byte[] original, Random random)
    {
        var bytes = original.ToList();
        string how;
        switch (random.Next(6))
        {
            case 0:
                var flips = 1 + random.Next(8);
                for (var k = 0; k < flips; k++)
                {
                    var at = random.Next(bytes.Count);
                    bytes[at] ^= (byte)(1 << random.Next(8));
                }
                how = $"{flips} bit flips";
                break;
            case 1:
                var keep = random.Next(bytes.Count);
                bytes.RemoveRange(keep, bytes.Count - keep);
                how = $"truncated to {keep} bytes";
                break;
            case 2:
                var insertAt = random.Next(bytes.Count);
                var inserted = new byte[1 + random.Next(16)];
                random.NextBytes(inserted);
                bytes.InsertRange(insertAt, inserted);
                how = $"{inserted.Length} bytes inserted at {insertAt}";
                break;
            case 3:
                var deleteAt = random.Next(bytes.Count);
                var deleted = Math.Min(1 + random.Next(16), bytes.Count - deleteAt);
                bytes.RemoveRange(deleteAt, deleted);
                how = $"{deleted} bytes deleted at {deleteAt}";
                break;
            case 4:
                how = EditLength(bytes, random);
                break;
            default:
                var overwriteAt = random.Next(bytes.Count);
                var value = random.Next(5) switch { 0 => (byte)0, 1 => (byte)0xFF, 2 => (byte)0x7F, 3 => (byte)0x80, _ => (byte)random.Next(256) };
                bytes[overwriteAt] = value;
                how = $"byte {overwriteAt} set to {value}";
                break;
        }
        var mutant = bytes.ToArray();
        if (mutant.AsSpan().StartsWith(PngChunks.Signature) && random.Next(2) == 0)
        {
            RepairPngChecksums(mutant);
            how += ", checksums repaired";
        }
        return (mutant, how);
    }

    // A PNG chunk length or a JPEG segment length set to something else: 0, huge, one off, random.
    private static string EditLength(List<byte> bytes, Random random)
    {
        var data = bytes.ToArray();
        var fields = new List<(int At, int Size)>();
        if (data.AsSpan().StartsWith(PngChunks.Signature))
        {
            for (var at = 8; at + 8 <= data.Length;)
            {
                fields.Add((at, 4));
                at += 12 + (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at)), int.MaxValue - 12);
            }
        }
        else
        {
            for (var at = 2; at + 4 <= data.Length && data[at] == 0xFF && data[at + 1] is not (0xDA or 0xD9);)
            {
                fields.Add((at + 2, 2));
                at += 2 + BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(at + 2));
            }
        }
        if (fields.Count == 0)
        {
            bytes[0] ^= 0xFF;
            return "first byte flipped";
        }
        var (field, size) = fields[random.Next(fields.Count)];
        var old = size == 4 ? BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(field)) : BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(field));
        var value = random.Next(4) switch { 0 => 0u, 1 => size == 4 ? 0xFFFFFFF0u : 0xFFFFu, 2 => old + 1, _ => (uint)random.Next() };
        for (var k = 0; k < size; k++)
        {
            bytes[field + k] = (byte)(value >> (8 * (size - 1 - k)));
        }
        return $"length at {field} set from {old} to {value}";
    }

    private static void RepairPngChecksums(byte[] png)
    {
        for (var at = 8; at + 12 <= png.Length;)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
            if (length > png.Length - at - 12)
            {
                return;
            }
            var end = at + 8 + (int)length;
            BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(end), PngCrc.Of(png.AsSpan(at + 4, 4 + (int)length)));
            at = end + 4;
        }
    }
}
