using T2IStudio.Generation.Imaging;

namespace T2IStudio.Generation.Evaluation;

/// <summary>A connected region of one palette colour found in an image.</summary>
/// <param name="Colour">The palette colour.</param>
/// <param name="Area">Pixels in the region.</param>
/// <param name="Bounds">Its bounding box.</param>
/// <param name="CentreX">Centroid x.</param>
/// <param name="CentreY">Centroid y.</param>
public sealed record ShapeRegion(string Colour, int Area, PixelRect Bounds, double CentreX, double CentreY)
{
    /// <summary>Area over bounding-box area: ≈ 1 for squares, π/4 for circles, ½ for triangles.</summary>
    public double Fill => (double)Area / (Bounds.Width * Bounds.Height);

    /// <summary>The shape the fill ratio points to.</summary>
    public string Shape => Fill switch
    {
        >= 0.9 => "square",
        >= 0.64 => "circle",
        _ => "triangle",
    };

    /// <summary>"large" when the longer side is nearer 26 px than 14 px.</summary>
    public string Size => Math.Max(Bounds.Width, Bounds.Height) >= 20 ? "large" : "small";
}

/// <summary>How well an image shows its caption.</summary>
/// <param name="Facts">Facts the caption states.</param>
/// <param name="Correct">Facts the image shows.</param>
/// <param name="Regions">The regions found.</param>
public sealed record ShapeVerdict(int Facts, int Correct, IReadOnlyList<ShapeRegion> Regions)
{
    /// <summary>Every fact is shown.</summary>
    public bool FullyCorrect => Correct == Facts;
}

/// <summary>
/// Reads a generated shapes image: pixels are classed as background (near white), a palette colour, or
/// other; 4-connected regions of one colour are objects; regions under <see cref="MinArea"/> pixels are
/// specks and ignored. Caption objects are matched to regions of their colours (the assignment that shows
/// most); facts are each object's colour being present, its shape and its size, and the relation between
/// the two centroids.
/// </summary>
public static class ShapeAnalyzer
{
    /// <summary>Smallest region that counts as an object (a small shape has ~150 pixels).</summary>
    public const int MinArea = 24;

    /// <summary>All regions of palette colours in <paramref name="image"/>, largest first.</summary>
    public static IReadOnlyList<ShapeRegion> FindRegions(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var names = ShapeCaption.Palette.Keys.ToArray();
        var labels = new int[image.Width * image.Height]; // -1 background/other, else palette index
        for (var p = 0; p < labels.Length; p++)
        {
            labels[p] = Classify(image.Pixels[p * 3], image.Pixels[p * 3 + 1], image.Pixels[p * 3 + 2], names);
        }
        var seen = new bool[labels.Length];
        var regions = new List<ShapeRegion>();
        var stack = new Stack<int>();
        for (var start = 0; start < labels.Length; start++)
        {
            if (seen[start] || labels[start] < 0)
            {
                continue;
            }
            var colour = labels[start];
            int area = 0, minX = int.MaxValue, minY = int.MaxValue, maxX = -1, maxY = -1;
            double sumX = 0, sumY = 0;
            stack.Push(start);
            seen[start] = true;
            while (stack.Count > 0)
            {
                var p = stack.Pop();
                int x = p % image.Width, y = p / image.Width;
                area++;
                sumX += x + 0.5;
                sumY += y + 0.5;
                (minX, maxX, minY, maxY) = (Math.Min(minX, x), Math.Max(maxX, x), Math.Min(minY, y), Math.Max(maxY, y));
                foreach (var (nx, ny) in new[] { (x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1) })
                {
                    if (nx < 0 || ny < 0 || nx >= image.Width || ny >= image.Height)
                    {
                        continue;
                    }
                    var q = ny * image.Width + nx;
                    if (!seen[q] && labels[q] == colour)
                    {
                        seen[q] = true;
                        stack.Push(q);
                    }
                }
            }
            if (area >= MinArea)
            {
                regions.Add(new ShapeRegion(names[colour], area, new PixelRect(minX, minY, maxX - minX + 1, maxY - minY + 1), sumX / area, sumY / area));
            }
        }
        return [.. regions.OrderByDescending(r => r.Area)];
    }

    /// <summary>Scores <paramref name="image"/> against <paramref name="caption"/>.</summary>
    public static ShapeVerdict Judge(RgbImage image, ShapeCaption caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var regions = FindRegions(image);
        // Read it as a person would: the assignment of regions to the caption's objects that shows most.
        ShapeRegion?[] FirstChoices() => [.. regions.Where(r => r.Colour == caption.First.Colour), null];
        var best = 0;
        foreach (var first in FirstChoices())
        {
            var score = Score(first, caption.First);
            if (caption.Second is { } secondSpec)
            {
                ShapeRegion?[] secondChoices = [.. regions.Where(r => r.Colour == secondSpec.Colour && !ReferenceEquals(r, first)), null];
                score += secondChoices.Max(second =>
                    Score(second, secondSpec) + (first is not null && second is not null && Holds(caption.Relation!, first, second) ? 1 : 0));
            }
            best = Math.Max(best, score);
        }
        return new ShapeVerdict(caption.FactCount, best, regions);
    }

    private static int Score(ShapeRegion? region, ShapeSpec spec) =>
        region is null ? 0 : 1 + (region.Shape == spec.Shape ? 1 : 0) + (region.Size == spec.Size ? 1 : 0);

    private static bool Holds(string relation, ShapeRegion a, ShapeRegion b) => relation switch
    {
        "left of" => a.CentreX < b.CentreX,
        "right of" => a.CentreX > b.CentreX,
        "above" => a.CentreY < b.CentreY,
        _ => a.CentreY > b.CentreY,
    };

    // Nearest palette colour within a generous radius; near-white and greys are background.
    private static int Classify(byte r, byte g, byte b, string[] names)
    {
        var max = Math.Max(r, Math.Max(g, b));
        var min = Math.Min(r, Math.Min(g, b));
        if (max - min < 60)
        {
            return -1; // white, grey, black: no palette colour is that unsaturated
        }
        var best = -1;
        var bestDistance = 100.0 * 100 * 3;
        for (var i = 0; i < names.Length; i++)
        {
            var (pr, pg, pb) = ShapeCaption.Palette[names[i]];
            double d = (r - pr) * (r - pr) + (g - pg) * (g - pg) + (b - pb) * (b - pb);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = i;
            }
        }
        return best;
    }
}
