using T2IStudio.Generation.Evaluation;
using T2IStudio.Generation.Imaging;

namespace T2IStudio.Generation.Tests.Evaluation;

public sealed class ShapeAnalyzerTests
{
    [Fact]
    public void Parses_single_and_related_captions_and_refuses_others()
    {
        Assert.Equal(new ShapeCaption(new ShapeSpec("small", "red", "circle"), null, null), ShapeCaption.TryParse("a small red circle"));
        var pair = ShapeCaption.TryParse("A large green triangle left of a small red circle")!;
        Assert.Equal("left of", pair.Relation);
        Assert.Equal(new ShapeSpec("small", "red", "circle"), pair.Second);
        Assert.Equal(7, pair.FactCount);
        Assert.Equal("a large green triangle left of a small red circle", pair.ToString());
        Assert.Null(ShapeCaption.TryParse("a cat"));
        Assert.Null(ShapeCaption.TryParse("a small red circle near a blue square"));
    }

    [Fact]
    public void Reads_rendered_ground_truth_fully_correctly_at_least_97_percent_of_the_time()
    {
        var rng = new Random(2026);
        var scenes = Enumerable.Range(0, 600).Select(_ => ShapeScene.Random(rng)).ToList();
        var verdicts = scenes.Select(s => ShapeAnalyzer.Judge(s.Image, s.Caption)).ToList();
        var fully = verdicts.Count(v => v.FullyCorrect) / (double)verdicts.Count;
        var facts = verdicts.Sum(v => v.Correct) / (double)verdicts.Sum(v => v.Facts);
        Assert.True(fully >= 0.97, $"fully correct {fully:P1}");
        Assert.True(facts >= 0.99, $"facts {facts:P1}");
    }

    [Fact]
    public void Mismatched_captions_score_near_chance()
    {
        var rng = new Random(7);
        var scenes = Enumerable.Range(0, 600).Select(_ => ShapeScene.Random(rng)).ToList();
        var shifted = scenes.Select((s, i) => ShapeAnalyzer.Judge(s.Image, scenes[(i + 1) % scenes.Count].Caption)).ToList();
        var fully = shifted.Count(v => v.FullyCorrect) / (double)shifted.Count;
        // Chance of a random caption fully matching: colour 1/6 per object, shape 1/3, size 1/2 …
        Assert.True(fully < 0.05, $"fully correct on mismatched captions {fully:P1}");
    }

    [Fact]
    public void Specks_do_not_count_as_objects()
    {
        var image = RgbImage.Filled(64, 64, 255, 255, 255);
        for (var y = 10; y < 13; y++)
        {
            for (var x = 10; x < 13; x++)
            {
                (image.Pixels[(y * 64 + x) * 3], image.Pixels[(y * 64 + x) * 3 + 1], image.Pixels[(y * 64 + x) * 3 + 2]) = (220, 40, 40);
            }
        }
        Assert.Empty(ShapeAnalyzer.FindRegions(image));
        Assert.Equal(0, ShapeAnalyzer.Judge(image, ShapeCaption.TryParse("a small red square")!).Correct);
    }
}
