using System.Globalization;

namespace T2IStudio.Generation.Models;

/// <summary>How a text encoder export names its outputs (Optimum writes <c>hidden_states.0</c> … <c>hidden_states.N</c>).</summary>
public static class TextEncoderOutputs
{
    private const string HiddenStates = "hidden_states.";

    /// <summary>
    /// The penultimate layer's output (diffusers' <c>hidden_states[-2]</c>, what SDXL conditions on), or null when
    /// the export has fewer than two <c>hidden_states.N</c> outputs.
    /// </summary>
    public static string? Penultimate(IEnumerable<string> outputNames)
    {
        ArgumentNullException.ThrowIfNull(outputNames);
        var last = outputNames
            .Where(n => n.StartsWith(HiddenStates, StringComparison.Ordinal))
            .Select(n => int.TryParse(n.AsSpan(HiddenStates.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1)
            .DefaultIfEmpty(-1)
            .Max();
        return last >= 1 ? $"{HiddenStates}{last - 1}" : null;
    }
}
