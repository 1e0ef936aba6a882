using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace T2IStudio.E2E.Tests;

/// <summary>
/// The README's "## API" section works as written: every fenced block right after a <c>&lt;!-- api-example --&gt;</c>
/// line runs under <c>bash -euo pipefail</c> against a real server, with <c>T2I_URL</c> and a token made on the
/// API tokens page in <c>T2I_TOKEN</c>, and leaves a 64×64 PNG behind.
/// </summary>
public sealed partial class ReadmeApiExamplesTests(StudioServer server) : IClassFixture<StudioServer>
{
    /// <summary>The line that marks the next fenced block of the API section as a runnable example.</summary>
    public const string Marker = "<!-- api-example -->";

    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public async Task The_README_API_examples_each_produce_a_64_by_64_PNG()
    {
        var examples = Examples(await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, "README.md")));
        // One for /api/v1, one for /sdapi/v1: losing a marker would quietly stop testing an example.
        Assert.Equal(2, examples.Count);
        Assert.Contains(examples, e => e.Contains("/api/v1/jobs/txt2img", StringComparison.Ordinal));
        Assert.Contains(examples, e => e.Contains("/sdapi/v1/txt2img", StringComparison.Ordinal));

        var page = await server.NewPageAsync();
        await StudioPages.RegisterAsync(page, "readme@example.test");
        await ApiTokenPages.OpenFromAccountMenuAsync(page, "readme");
        var token = await ApiTokenPages.CreateAsync(page, "readme examples", "Read and generate");
        await page.Context.CloseAsync();

        var failures = new List<string>();
        foreach (var (example, index) in examples.Select((e, i) => (e, i)))
        {
            var folder = Directory.CreateTempSubdirectory("t2i-readme-").FullName;
            try
            {
                var (exitCode, output) = await RunAsync(example, folder, token);
                var pngs = Directory.GetFiles(folder, "*.png");
                if (exitCode != 0 || pngs.Length == 0)
                {
                    failures.Add($"Example {index + 1} exited with {exitCode} and wrote {pngs.Length} PNG files:\n{output}");
                    continue;
                }
                foreach (var png in pngs)
                {
                    if (Problem(await File.ReadAllBytesAsync(png)) is { } problem)
                    {
                        failures.Add($"Example {index + 1}: {Path.GetFileName(png)} {problem}\n{output}");
                    }
                }
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    /// <summary>The fenced blocks after each marker in the "## API" section (up to the next level-2 heading).</summary>
    public static IReadOnlyList<string> Examples(string readme)
    {
        ArgumentNullException.ThrowIfNull(readme);
        readme = readme.ReplaceLineEndings("\n");
        var start = readme.IndexOf("\n## API\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "The README has no \"## API\" section.");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = end < 0 ? readme[start..] : readme[start..end];
        return [.. MarkedBlock().Matches(section).Select(m => m.Groups["code"].Value)];
    }

    /// <summary>Why <paramref name="bytes"/> is not a 64×64 PNG, or null when it is (signature, then IHDR's width and height).</summary>
    private static string? Problem(byte[] bytes)
    {
        if (bytes.Length < 24 || !bytes.AsSpan(0, 8).SequenceEqual(PngSignature))
        {
            return $"is not a PNG ({bytes.Length} bytes).";
        }
        if (!bytes.AsSpan(12, 4).SequenceEqual("IHDR"u8))
        {
            return "has no IHDR first.";
        }
        var width = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4));
        var height = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4));
        return width == 64 && height == 64 ? null : $"is {width}×{height}, not 64×64.";
    }

    private async Task<(int ExitCode, string Output)> RunAsync(string script, string folder, string token)
    {
        var file = Path.Combine(folder, "example.sh");
        await File.WriteAllTextAsync(file, script);
        var start = new ProcessStartInfo("bash", ["-euo", "pipefail", file])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["T2I_URL"] = server.BaseUrl;
        start.Environment["T2I_TOKEN"] = token;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // A generous bound for the two cores of CI, never a sleep: a hung stream fails the test instead of the run.
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, $"Timed out after 3 minutes.\n{await stdout}\n{await stderr}");
        }
        return (process.ExitCode, $"{await stdout}\n{await stderr}");
    }

    [GeneratedRegex("^" + Marker + @"\n```(?:bash|sh)\n(?<code>.*?)\n```$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex MarkedBlock();
}
