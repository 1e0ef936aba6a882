using T2IStudio.Generation.Imaging;

namespace T2IStudio.Generation.Tests.Imaging;

/// <summary>Every file of the crafted-input corpus through the real intake: refused with its message or read right.</summary>
public sealed class ImageIntakeCorpusTests
{
    public static TheoryData<string> Files => [.. CorpusEntry.All.Select(e => e.File)];

    [Theory]
    [MemberData(nameof(Files))]
    public void Each_corpus_file_is_refused_with_its_message_or_read_correctly_within_the_memory_budget(string file)
    {
        var entry = CorpusEntry.Named(file);

        var outcome = IntakeOutcome.Run(entry.Bytes(), entry.Mask);

        Assert.True(outcome.AllocatedBytes < entry.BudgetMB * 1024L * 1024,
            $"{file} allocated {outcome.AllocatedBytes / 1024 / 1024.0:0.0} MB; the budget is {entry.BudgetMB} MB.");
        switch (entry.Expect)
        {
            case "refuse":
                Assert.True(outcome.Refusal is not null, $"{file} was accepted; it should be refused with \"{entry.Message}\".");
                Assert.Contains(entry.Message!, outcome.Refusal, StringComparison.Ordinal);
                if (!entry.Mask)
                {
                    Assert.EndsWith(ImageLimits.Default.Summary, outcome.Refusal, StringComparison.Ordinal);
                }
                break;
            case "accept":
                Assert.True(outcome.Refusal is null, $"{file} was refused: {outcome.Refusal}");
                AssertPicture(entry, outcome);
                break;
            default:
                // A damaged file a decoder may still read: refused in words, or read at its size.
                if (outcome.Refusal is null)
                {
                    Assert.Equal((entry.Width, entry.Height), (outcome.Image!.Width, outcome.Image.Height));
                }
                else
                {
                    Assert.EndsWith(ImageLimits.Default.Summary, outcome.Refusal, StringComparison.Ordinal);
                }
                break;
        }
    }

    [Fact]
    public void The_corpus_holds_every_kind_of_crafted_input_the_issue_names()
    {
        var names = CorpusEntry.All.Select(e => e.File).ToList();
        foreach (var kind in new[] { "bomb-ztxt", "bomb-itxt", "bomb-iccp", "bomb-idat", "65535x65535", "truncated", "crc-broken", "webp-animated",
            "gif-animated", "png-apng", "jpeg-cmyk", "png-rgb16", "png-palette", "png-grey-alpha", "png-interlaced", "jpeg-progressive",
            "random-bytes.png", "random-bytes.jpg", "mask-wrong-size", "mask-not-png" })
        {
            Assert.Contains(names, n => n.Contains(kind, StringComparison.Ordinal));
        }
        Assert.Equal(8, names.Count(n => n.StartsWith("jpeg-exif-orientation-", StringComparison.Ordinal)));
    }

    [Fact]
    public void An_upload_is_reduced_once_at_intake_to_the_kept_side_with_its_aspect()
    {
        var entry = CorpusEntry.Named("bomb-idat-16mp.png");

        var outcome = IntakeOutcome.Run(entry.Bytes(), mask: false, IntakeOptions.Upload);

        Assert.Null(outcome.Refusal);
        Assert.Equal((entry.UploadWidth, entry.UploadHeight), (outcome.Image!.Width, outcome.Image.Height));
        Assert.Equal(ImageIntake.UploadSide, Math.Max(outcome.Image.Width, outcome.Image.Height));
        Assert.All(new[] { 0, outcome.Image.Pixels.Length / 2, outcome.Image.Pixels.Length - 1 }, i => Assert.Equal(32, outcome.Image.Pixels[i]));
    }

    [Fact]
    public void A_small_upload_is_kept_at_its_own_size()
    {
        var outcome = IntakeOutcome.Run(CorpusEntry.Named("png-rgb8.png").Bytes(), mask: false, IntakeOptions.Upload);

        Assert.Equal((64, 48), (outcome.Image!.Width, outcome.Image.Height));
    }

    [Theory]
    [InlineData("png-text-parameters.png")]
    [InlineData("png-ztxt-parameters.png")]
    [InlineData("png-itxt-parameters.png")]
    public void Parameters_text_is_read_from_text_ztxt_and_itxt_chunks(string file)
    {
        var entry = CorpusEntry.Named(file);

        var text = ImageIntake.ReadText(entry.Bytes());

        Assert.Equal(entry.Parameters, text.Parameters);
    }

    [Theory]
    [InlineData("bomb-ztxt-256mib.png", "zTXt")]
    [InlineData("bomb-itxt-64mib.png", "iTXt")]
    public void Reading_the_text_of_a_text_bomb_is_refused_with_a_message_after_a_bounded_inflate(string file, string chunk)
    {
        var data = CorpusEntry.Named(file).Bytes();
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<ImageRefusedException>(() => ImageIntake.ReadText(data));

        Assert.Contains($"{chunk} text chunk that inflates past 256 KB", error.Message, StringComparison.Ordinal);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 4L * 1024 * 1024);
    }

    [Fact]
    public void A_colour_profile_bomb_is_never_inflated_and_a_jpeg_has_no_text()
    {
        Assert.Equal(new PngTextChunks(null, null), ImageIntake.ReadText(CorpusEntry.Named("bomb-iccp-256mib.png").Bytes()));
        Assert.Equal(new PngTextChunks(null, null), ImageIntake.ReadText(CorpusEntry.Named("jpeg-baseline.jpg").Bytes()));
    }

    [Fact]
    public void An_oversized_header_is_refused_before_any_pixel_buffer_exists()
    {
        var data = CorpusEntry.Named("header-65535x65535.png").Bytes();
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<ImageRefusedException>(() => ImageIntake.Read(data));

        Assert.StartsWith("This PNG is 65535×65535 (4096 megapixels).", error.Message, StringComparison.Ordinal);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 256 * 1024);
    }

    [Fact]
    public void A_decode_over_the_memory_budget_is_refused_with_a_message()
    {
        var limits = ImageLimits.Default with { MaxDecodeBytes = 1024 * 1024 };

        var error = Assert.Throws<ImageRefusedException>(() => ImageIntake.Read(CorpusEntry.Named("bomb-idat-16mp.png").Bytes(), new IntakeOptions { Limits = limits }));

        Assert.StartsWith("This PNG would need more than 1 MB of memory to decode.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_over_the_size_limit_is_refused_before_it_is_parsed()
    {
        var error = Assert.Throws<ImageRefusedException>(() => ImageIntake.Read(new MemoryStream(new byte[ImageLimits.Default.MaxFileBytes + 1])));

        Assert.StartsWith("This file is larger than 10 MB.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cancelled_decode_is_cancelled_not_refused()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => ImageIntake.Read(CorpusEntry.Named("png-rgb8.png").Bytes(), cancellationToken: cancelled.Token));
    }

    private static void AssertPicture(CorpusEntry entry, IntakeOutcome outcome)
    {
        if (entry.Mask)
        {
            var mask = outcome.Mask!;
            Assert.Equal((entry.Width, entry.Height), (mask.Width, mask.Height));
            foreach (var p in entry.Pixels)
            {
                Assert.Equal(p[2], mask.Values[p[1] * mask.Width + p[0]]);
            }
            return;
        }
        var image = outcome.Image!;
        Assert.Equal((entry.Width, entry.Height), (image.Width, image.Height));
        foreach (var p in entry.Pixels)
        {
            var at = (p[1] * image.Width + p[0]) * 3;
            for (var c = 0; c < 3; c++)
            {
                Assert.True(Math.Abs(image.Pixels[at + c] - p[2 + c]) <= entry.Tolerance,
                    $"{entry.File} at ({p[0]}, {p[1]}) is ({image.Pixels[at]}, {image.Pixels[at + 1]}, {image.Pixels[at + 2]}); expected ({p[2]}, {p[3]}, {p[4]}) ± {entry.Tolerance}.");
            }
        }
    }
}
