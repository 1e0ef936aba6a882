using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Styles;

/// <summary>
/// How a style turns what the person typed into what the engine runs: the person's prompt goes where the style's
/// <c>{prompt}</c> stands, or the style's fragment follows it; the style's negative follows the person's. The same
/// function feeds the Create page's preview and the server's expansion, so what the page shows is what is run.
/// </summary>
public static class StyleExpansion
{
    private const string Separator = ", ";

    /// <summary>The prompt <paramref name="prompt"/> becomes under a style whose prompt is <paramref name="stylePrompt"/>.</summary>
    public static string Prompt(string? prompt, string? stylePrompt)
    {
        var own = (prompt ?? "").Trim();
        var fragment = (stylePrompt ?? "").Trim();
        var at = fragment.IndexOf(Style.PromptPlaceholder, StringComparison.Ordinal);
        if (at < 0)
        {
            return Join(own, fragment);
        }
        var before = fragment[..at];
        var after = fragment[(at + Style.PromptPlaceholder.Length)..];
        if (own.Length > 0)
        {
            return (before + own + after).Trim();
        }
        // Nothing typed: the placeholder goes, and with it the comma that would be left hanging.
        before = before.TrimEnd();
        after = after.TrimStart();
        if (after.StartsWith(',') && (before.Length == 0 || before.EndsWith(',')))
        {
            after = after[1..].TrimStart();
        }
        if (after.Length == 0 && before.EndsWith(','))
        {
            before = before[..^1].TrimEnd();
        }
        return before.Length > 0 && after.Length > 0 ? $"{before} {after}" : before + after;
    }

    /// <summary>The negative prompt <paramref name="negativePrompt"/> becomes under a style whose negative is <paramref name="styleNegative"/>.</summary>
    public static string NegativePrompt(string? negativePrompt, string? styleNegative) =>
        Join((negativePrompt ?? "").Trim(), (styleNegative ?? "").Trim());

    /// <summary>Whether <paramref name="stylePrompt"/> places the person's prompt with <c>{prompt}</c> (else it is appended).</summary>
    public static bool HasPlaceholder(string? stylePrompt) =>
        stylePrompt?.Contains(Style.PromptPlaceholder, StringComparison.Ordinal) == true;

    /// <summary>How many times <paramref name="stylePrompt"/> holds <c>{prompt}</c>.</summary>
    public static int PlaceholderCount(string? stylePrompt)
    {
        var count = 0;
        for (var at = stylePrompt?.IndexOf(Style.PromptPlaceholder, StringComparison.Ordinal) ?? -1; at >= 0;
             at = stylePrompt!.IndexOf(Style.PromptPlaceholder, at + Style.PromptPlaceholder.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    /// <summary>Two trimmed parts joined by ", ", without doubling a comma either already has at the seam.</summary>
    private static string Join(string first, string second)
    {
        if (first.Length == 0)
        {
            return second;
        }
        if (second.Length == 0)
        {
            return first;
        }
        var left = first.TrimEnd(',', ' ');
        var right = second.TrimStart(',', ' ');
        return left.Length == 0 ? right : right.Length == 0 ? left : left + Separator + right;
    }
}
