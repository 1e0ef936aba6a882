using T2IStudio.Generation.Imaging;

namespace T2IStudio.Generation.Evaluation;

/// <summary>
/// Renders shapes captions with the geometry of the training data (tools/tinymodel/shapes.py): 64×64, white,
/// pixel centres inside the shape. Used to validate the analyser on ground truth.
/// </summary>
public static class ShapeScene
{
    /// <summary>The image side.</summary>
    public const int Side = 64;

    /// <summary>A random caption and its rendering; two objects apart along the relation's axis.</summary>
    public static (RgbImage Image, ShapeCaption Caption) Random(System.Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var pixels = Enumerable.Repeat((byte)255, Side * Side * 3).ToArray();
        ShapeSpec Pick() => new(
            ShapeCaption.Sizes.Keys.ElementAt(rng.Next(2)),
            ShapeCaption.Palette.Keys.ElementAt(rng.Next(ShapeCaption.Palette.Count)),
            ShapeCaption.Shapes[rng.Next(3)]);
        if (rng.NextDouble() < 0.3)
        {
            var only = Pick();
            var s = ShapeCaption.Sizes[only.Size];
            var margin = s / 2.0 + 2;
            Draw(pixels, only, s, Uniform(rng, margin, Side - margin), Uniform(rng, margin, Side - margin));
            return (new RgbImage(Side, Side, pixels), new ShapeCaption(only, null, null));
        }
        ShapeSpec a, b;
        do
        {
            (a, b) = (Pick(), Pick());
        }
        while (a.Colour == b.Colour && a.Shape == b.Shape);
        var relation = ShapeCaption.Relations[rng.Next(4)];
        int sa = ShapeCaption.Sizes[a.Size], sb = ShapeCaption.Sizes[b.Size];
        var along = (sa + sb) / 2.0 + Uniform(rng, 4, 10);
        var ca = Uniform(rng, sa / 2.0 + 2, Side - along - sb / 2.0 - 2);
        var crossA = Uniform(rng, Math.Max(sa, sb) / 2.0 + 2, Side - Math.Max(sa, sb) / 2.0 - 2);
        var crossB = Math.Clamp(crossA + Uniform(rng, -4, 4), sb / 2.0 + 2, Side - sb / 2.0 - 2);
        double first = ca, second = ca + along;
        if (relation is "right of" or "below")
        {
            (first, second) = (second, first);
        }
        var horizontal = relation is "left of" or "right of";
        Draw(pixels, a, sa, horizontal ? first : crossA, horizontal ? crossA : first);
        Draw(pixels, b, sb, horizontal ? second : crossB, horizontal ? crossB : second);
        return (new RgbImage(Side, Side, pixels), new ShapeCaption(a, relation, b));
    }

    private static double Uniform(System.Random rng, double low, double high) => low + rng.NextDouble() * (high - low);

    private static void Draw(byte[] pixels, ShapeSpec spec, int size, double cx, double cy)
    {
        var h = size / 2.0;
        var (r, g, b) = ShapeCaption.Palette[spec.Colour];
        for (var y = 0; y < Side; y++)
        {
            for (var x = 0; x < Side; x++)
            {
                double px = x + 0.5, py = y + 0.5;
                var inside = spec.Shape switch
                {
                    "circle" => (px - cx) * (px - cx) + (py - cy) * (py - cy) <= h * h,
                    "square" => Math.Abs(px - cx) <= h && Math.Abs(py - cy) <= h,
                    _ => py >= cy - h && py <= cy + h && Math.Abs(px - cx) <= (py - (cy - h)) / size * h,
                };
                if (inside)
                {
                    var i = (y * Side + x) * 3;
                    (pixels[i], pixels[i + 1], pixels[i + 2]) = (r, g, b);
                }
            }
        }
    }
}
