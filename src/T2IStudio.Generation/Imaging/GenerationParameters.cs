using System.Globalization;
using System.Text;

namespace T2IStudio.Generation.Imaging;

/// <summary>
/// What made an image, in AUTOMATIC1111's <c>parameters</c> text format so other tools read it:
/// <code>
/// prompt
/// Negative prompt: negative
/// Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 1, Size: 512x512, Model hash: 0123456789, Model: name
/// </code>
/// The settings line follows A1111 1.10 (sampler and schedule type apart, as it has written them since 1.9), less
/// its closing "Version" (T2I Studio is not an A1111 release).
/// </summary>
public sealed record GenerationParameters
{
    /// <summary>The prompt as typed.</summary>
    public required string Prompt { get; init; }

    /// <summary>The negative prompt; empty when none.</summary>
    public string NegativePrompt { get; init; } = "";

    /// <summary>Every "Key: value" of the last line, in order (Steps, Sampler, CFG scale, Seed, Size, …).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Settings { get; init; } = [];

    /// <summary>The value of <paramref name="key"/>, or null.</summary>
    public string? this[string key] => Settings.FirstOrDefault(s => s.Key == key).Value;

    /// <summary>The A1111 text.</summary>
    public string Format()
    {
        var text = new StringBuilder(Prompt);
        if (NegativePrompt.Length > 0)
        {
            text.Append("\nNegative prompt: ").Append(NegativePrompt);
        }
        text.Append('\n').AppendJoin(", ", Settings.Select(s => $"{s.Key}: {Quote(s.Value)}"));
        return text.ToString();
    }

    /// <summary>
    /// A sampler's name as A1111 1.9+ writes it: the sampler without a schedule suffix, and its "Schedule type".
    /// "Automatic" is each sampler's own default schedule; A1111's default for DPM++ 2M is Karras, so the plain
    /// (uniform) DPM++ 2M is written "Uniform" to read back the same in A1111.
    /// </summary>
    /// <param name="sampler">A combined A1111 name such as "DPM++ 2M Karras" or "Euler a".</param>
    public static (string Sampler, string ScheduleType) SplitSampler(string sampler)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        const string karras = " Karras";
        if (sampler.EndsWith(karras, StringComparison.Ordinal))
        {
            return (sampler[..^karras.Length], "Karras");
        }
        return (sampler, sampler == "DPM++ 2M" ? "Uniform" : "Automatic");
    }

    /// <summary>Builds the settings line in A1111's order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> StandardSettings(
        int steps, string sampler, double cfgScale, ulong seed, int width, int height, string? modelHash, string model,
        double? denoisingStrength = null, int? maskBlur = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var (samplerName, scheduleType) = SplitSampler(sampler);
        var settings = new List<KeyValuePair<string, string>>
        {
            new("Steps", steps.ToString(inv)),
            new("Sampler", samplerName),
            new("Schedule type", scheduleType),
            new("CFG scale", cfgScale.ToString("0.###", inv)),
            new("Seed", seed.ToString(inv)),
            new("Size", $"{width}x{height}"),
        };
        if (modelHash is not null)
        {
            settings.Add(new("Model hash", modelHash));
        }
        settings.Add(new("Model", model));
        if (denoisingStrength is { } strength)
        {
            settings.Add(new("Denoising strength", strength.ToString("0.###", inv)));
        }
        if (maskBlur is { } blur)
        {
            settings.Add(new("Mask blur", blur.ToString(inv)));
        }
        return settings;
    }

    /// <summary>Parses A1111 text; the settings line is the last line that has "Steps:".</summary>
    public static GenerationParameters Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').ToList();
        var settingsLine = lines.FindLastIndex(l => l.StartsWith("Steps: ", StringComparison.Ordinal));
        var settings = settingsLine >= 0 ? ParseSettings(lines[settingsLine]) : [];
        var body = settingsLine >= 0 ? lines.Take(settingsLine).ToList() : lines;
        var negativeStart = body.FindIndex(l => l.StartsWith("Negative prompt:", StringComparison.Ordinal));
        string prompt, negative = "";
        if (negativeStart >= 0)
        {
            prompt = string.Join('\n', body.Take(negativeStart));
            negative = string.Join('\n', body.Skip(negativeStart)).Substring("Negative prompt:".Length).TrimStart();
        }
        else
        {
            prompt = string.Join('\n', body);
        }
        return new GenerationParameters { Prompt = prompt, NegativePrompt = negative, Settings = settings };
    }

    private static List<KeyValuePair<string, string>> ParseSettings(string line)
    {
        var result = new List<KeyValuePair<string, string>>();
        var i = 0;
        while (i < line.Length)
        {
            var colon = line.IndexOf(": ", i, StringComparison.Ordinal);
            if (colon < 0)
            {
                break;
            }
            var key = line[i..colon].Trim();
            i = colon + 2;
            string value;
            if (i < line.Length && line[i] == '"')
            {
                var end = i + 1;
                var builder = new StringBuilder();
                while (end < line.Length && line[end] != '"')
                {
                    if (line[end] == '\\' && end + 1 < line.Length)
                    {
                        end++;
                    }
                    builder.Append(line[end++]);
                }
                value = builder.ToString();
                i = Math.Min(end + 1, line.Length);
                var comma = line.IndexOf(',', i);
                i = comma < 0 ? line.Length : comma + 1;
            }
            else
            {
                var comma = line.IndexOf(", ", i, StringComparison.Ordinal);
                var end = comma < 0 ? line.Length : comma;
                value = line[i..end];
                i = comma < 0 ? line.Length : comma + 2;
            }
            result.Add(new(key, value));
        }
        return result;
    }

    // A1111 quotes a value that has a comma, colon or quote, escaping quotes and backslashes.
    private static string Quote(string value) =>
        value.IndexOfAny([',', ':', '"', '\n']) < 0
            ? value
            : "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal) + "\"";
}
