using Microsoft.Extensions.Logging.Abstractions;
using T2IStudio.Data;
using T2IStudio.Generation.Imaging;
using T2IStudio.Web.Storage;

namespace T2IStudio.Web.Tests.Nodes;

/// <summary>Two nodes' image stores on one shared <c>Storage:Root</c>.</summary>
public sealed class SharedStorageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("t2i-shared-").FullName;

    [Fact]
    public async Task Two_nodes_making_and_reading_one_thumbnail_at_once_only_ever_read_a_whole_file()
    {
        var node1 = Store();
        var node2 = Store();
        var image = RgbImage.Filled(300, 200, 200, 40, 40);
        var stored = await node1.WritePngAsync(PngFiles.Encode(image, parameters: null, requestJson: null));
        var thumbnail = node1.ThumbnailPathOf(stored.Key);
        Assert.False(File.Exists(thumbnail)); // stored without one, as an inpainting source or a copied image is

        // Both nodes make it while both read it as fast as they can, over and over.
        using var start = new Barrier(4);
        var reads = new System.Collections.Concurrent.ConcurrentBag<byte[]>();
        var makers = new[] { node1, node2 }.Select(store => Task.Run(async () =>
        {
            start.SignalAndWait();
            for (var i = 0; i < 20; i++)
            {
                Assert.True(await store.EnsureThumbnailAsync(stored.Key));
            }
        }));
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < 500; i++)
            {
                try
                {
                    reads.Add(File.ReadAllBytes(thumbnail));
                }
                catch (FileNotFoundException)
                {
                    // Not made yet: a reader finds nothing, or a whole file.
                }
            }
        }));
        await Task.WhenAll([.. makers, .. readers]);
        reads.Add(await File.ReadAllBytesAsync(thumbnail));

        foreach (var bytes in reads)
        {
            using var picture = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(bytes);
            Assert.Equal((256, 171), (picture.Width, picture.Height));
        }
        // One thumbnail beside the PNG, and no temporary file of either node left behind.
        Assert.Equal(
            new[] { node1.PathOf(stored.Key), thumbnail }.Order(StringComparer.Ordinal),
            Directory.EnumerateFiles(Path.Combine(_root, "images"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_thumbnail_is_not_made_for_an_image_whose_file_is_gone()
    {
        Assert.False(await Store().EnsureThumbnailAsync(Guid.NewGuid()));
    }

    private ImageStore Store() =>
        new(Microsoft.Extensions.Options.Options.Create(new StorageOptions { Root = _root }), new HostEnvironment(_root), NullLogger<ImageStore>.Instance);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private sealed class HostEnvironment(string root) : Microsoft.Extensions.Hosting.IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Development";

        public string ApplicationName { get; set; } = "T2IStudio.Web";

        public string ContentRootPath { get; set; } = root;

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
