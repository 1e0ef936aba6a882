using Microsoft.Extensions.Logging.Abstractions;
using T2IStudio.Generation.Imaging;
using T2IStudio.Web.Images;

namespace T2IStudio.Web.Tests.Images;

/// <summary>The upload trust boundary: every bad file comes back as a message, a good one at its kept size.</summary>
public sealed class ImageUploadsTests : IDisposable
{
    private readonly ImageUploads _uploads = new(NullLogger<ImageUploads>.Instance);

    public void Dispose() => _uploads.Dispose();

    [Fact]
    public async Task A_large_upload_is_reduced_once_to_the_kept_side_and_keeps_its_aspect()
    {
        var png = PngFiles.Encode(RgbImage.Filled(3000, 1000, 10, 200, 30), null, null);

        var outcome = await _uploads.ReadAsync("wide.png", () => new MemoryStream(png));

        Assert.True(outcome.Succeeded);
        Assert.Equal((2048, 683), (outcome.Image!.Width, outcome.Image.Height));
        Assert.Equal((3000, 1000), (outcome.Header!.Width, outcome.Header.Height));
        Assert.Equal([10, 200, 30], outcome.Image.Pixels[..3]);
    }

    [Fact]
    public async Task Bytes_that_are_no_image_get_a_message_and_no_exception()
    {
        var outcome = await _uploads.ReadAsync("notes.png", () => new MemoryStream("not an image"u8.ToArray()));

        Assert.False(outcome.Succeeded);
        Assert.Equal($"This file is not a PNG, JPEG or WebP image. {ImageLimits.Default.Summary}", outcome.Refusal);
    }

    [Fact]
    public async Task A_stream_longer_than_the_cap_is_refused_while_it_is_read()
    {
        var outcome = await _uploads.ReadAsync("big.png", () => new MemoryStream(new byte[ImageLimits.Default.MaxFileBytes + 100]));

        Assert.StartsWith("This file is larger than 10 MB.", outcome.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_upload_that_breaks_off_says_to_try_again()
    {
        var outcome = await _uploads.ReadAsync("cut.png", () => new BrokenStream());

        Assert.Equal("The upload did not arrive whole; try again.", outcome.Refusal);
    }

    private sealed class BrokenStream : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException<int>(new IOException("The connection went away."));
    }
}
