namespace T2IStudio.Generation.Evaluation;

/// <summary>One object of a shapes caption: "a small red circle".</summary>
/// <param name="Size">"small" or "large".</param>
/// <param name="Colour">A palette colour name.</param>
/// <param name="Shape">"circle", "square" or "triangle".</param>
public sealed record ShapeSpec(string Size, string Colour, string Shape);

/// <summary>
/// A caption of the embedded model's shapes data: one object, or two related by "left of", "right of",
/// "above" or "below" ("a small red circle above a large blue square").
/// </summary>
public sealed record ShapeCaption(ShapeSpec First, string? Relation, ShapeSpec? Second)
{
    /// <summary>The palette the data uses (and the analyser matches against), RGB.</summary>
    public static IReadOnlyDictionary<string, (byte R, byte G, byte B)> Palette { get; } = new Dictionary<string, (byte, byte, byte)>
    {
        ["red"] = (220, 40, 40),
        ["green"] = (40, 170, 60),
        ["blue"] = (40, 80, 220),
        ["yellow"] = (240, 200, 30),
        ["purple"] = (150, 60, 190),
        ["orange"] = (245, 130, 30),
    };

    /// <summary>Side or diameter in pixels of each size word.</summary>
    public static IReadOnlyDictionary<string, int> Sizes { get; } = new Dictionary<string, int> { ["small"] = 14, ["large"] = 26 };

    /// <summary>The shape words.</summary>
    public static IReadOnlyList<string> Shapes { get; } = ["circle", "square", "triangle"];

    /// <summary>The relation phrases.</summary>
    public static IReadOnlyList<string> Relations { get; } = ["left of", "right of", "above", "below"];

    /// <summary>How many facts the caption states: size, colour and shape of each object, and the relation.</summary>
    public int FactCount => Second is null ? 3 : 7;

    /// <summary>Parses a caption, or returns null when it is not in the shapes grammar.</summary>
    public static ShapeCaption? TryParse(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var words = caption.Trim().ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var first = Object(words, 0);
        if (first is null)
        {
            return null;
        }
        if (words.Length == 4)
        {
            return new ShapeCaption(first, null, null);
        }
        var (relation, next) = words.Length > 5 && words[4] is "left" or "right" && words[5] == "of"
            ? ($"{words[4]} of", 6)
            : words.Length > 4 && words[4] is "above" or "below" ? (words[4], 5) : (null, 0);
        if (relation is null || words.Length != next + 4)
        {
            return null;
        }
        var second = Object(words, next);
        return second is null ? null : new ShapeCaption(first, relation, second);
    }

    /// <inheritdoc />
    public override string ToString() =>
        Second is null ? Describe(First) : $"{Describe(First)} {Relation} {Describe(Second)}";

    private static string Describe(ShapeSpec s) => $"a {s.Size} {s.Colour} {s.Shape}";

    private static ShapeSpec? Object(string[] words, int at) =>
        words.Length >= at + 4 && words[at] == "a" && Sizes.ContainsKey(words[at + 1]) && Palette.ContainsKey(words[at + 2]) && Shapes.Contains(words[at + 3])
            ? new ShapeSpec(words[at + 1], words[at + 2], words[at + 3])
            : null;
}
