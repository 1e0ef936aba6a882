using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace T2IStudio.Generation.Prompts;

/// <summary>A run of prompt text and the weight its tokens get.</summary>
/// <param name="Text">The text, brackets removed and escapes resolved.</param>
/// <param name="Weight">The attention multiplier (1 is neutral).</param>
public readonly record struct WeightedText(string Text, double Weight);

/// <summary>
/// AUTOMATIC1111's attention syntax: <c>(word)</c> ×1.1, <c>((word))</c> ×1.21, <c>[word]</c> ÷1.1,
/// <c>(word:1.5)</c> sets the factor, <c>\(</c> <c>\)</c> <c>\[</c> <c>\]</c> are literal brackets.
/// Unclosed brackets still weigh; <c>BREAK</c> separates runs. Same results as A1111's parser.
/// </summary>
public static partial class PromptAttention
{
    private const double RoundMultiplier = 1.1;
    private const double SquareMultiplier = 1 / 1.1;

    /// <summary>Splits <paramref name="prompt"/> into runs of equal weight, in order.</summary>
    public static IReadOnlyList<WeightedText> Parse(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var runs = new List<(StringBuilder Text, double Weight)>();
        var round = new Stack<int>();
        var square = new Stack<int>();

        void Multiply(int start, double factor)
        {
            for (var i = start; i < runs.Count; i++)
            {
                runs[i] = (runs[i].Text, runs[i].Weight * factor);
            }
        }

        foreach (Match match in Token().Matches(prompt))
        {
            var text = match.Value;
            var weight = match.Groups[1];
            if (text.StartsWith('\\'))
            {
                runs.Add((new StringBuilder(text[1..]), 1.0));
            }
            else if (text == "(")
            {
                round.Push(runs.Count);
            }
            else if (text == "[")
            {
                square.Push(runs.Count);
            }
            else if (weight.Success && round.Count > 0)
            {
                Multiply(round.Pop(), double.Parse(weight.Value, NumberStyles.Float, CultureInfo.InvariantCulture));
            }
            else if (text == ")" && round.Count > 0)
            {
                Multiply(round.Pop(), RoundMultiplier);
            }
            else if (text == "]" && square.Count > 0)
            {
                Multiply(square.Pop(), SquareMultiplier);
            }
            else
            {
                var parts = Break().Split(text);
                for (var i = 0; i < parts.Length; i++)
                {
                    if (i > 0)
                    {
                        runs.Add((new StringBuilder("BREAK"), -1));
                    }
                    runs.Add((new StringBuilder(parts[i]), 1.0));
                }
            }
        }
        // Unclosed brackets apply to everything after them, as in A1111.
        foreach (var start in round)
        {
            Multiply(start, RoundMultiplier);
        }
        foreach (var start in square)
        {
            Multiply(start, SquareMultiplier);
        }
        if (runs.Count == 0)
        {
            return [new WeightedText("", 1.0)];
        }

        var merged = new List<WeightedText>(runs.Count);
        foreach (var (text, w) in runs)
        {
            if (merged.Count > 0 && merged[^1].Weight == w)
            {
                merged[^1] = merged[^1] with { Text = merged[^1].Text + text };
            }
            else
            {
                merged.Add(new WeightedText(text.ToString(), w));
            }
        }
        return merged;
    }

    /// <summary>True for the marker run that <c>BREAK</c> leaves between runs.</summary>
    public static bool IsBreak(WeightedText run) => run.Weight < 0 && run.Text == "BREAK";

    [GeneratedRegex(@"\\\(|\\\)|\\\[|\\]|\\\\|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|]|[^\\()\[\]:]+|:")]
    private static partial Regex Token();

    [GeneratedRegex(@"\s*\bBREAK\b\s*", RegexOptions.Singleline)]
    private static partial Regex Break();
}
