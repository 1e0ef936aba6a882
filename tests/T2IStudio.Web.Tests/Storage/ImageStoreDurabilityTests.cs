using Microsoft.Extensions.Logging.Abstractions;
using T2IStudio.Data;
using T2IStudio.Web.Storage;

namespace T2IStudio.Web.Tests.Storage;

public sealed class ImageStoreDurabilityTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("t2i-store-").FullName;

    [Fact]
    public void The_sweep_removes_old_orphans_and_temporary_files_but_never_a_file_written_after_it_began()
    {
        var store = new ImageStore(Microsoft.Extensions.Options.Options.Create(new StorageOptions { Root = _root }), new Environment(_root), NullLogger<ImageStore>.Instance);
        var began = DateTime.UtcNow;
        var kept = Guid.NewGuid();
        var oldOrphan = Write(store.PathOf(Guid.NewGuid()), began.AddMinutes(-5));
        var oldTemp = Write(store.PathOf(Guid.NewGuid()) + ".1a2b3c4d.tmp", began.AddMinutes(-5));
        var referenced = Write(store.PathOf(kept), began.AddMinutes(-5));
        // A write in flight: its row is not committed yet, and its file is newer than the sweep.
        var pending = Write(store.PathOf(Guid.NewGuid()), began.AddSeconds(1));
        var pendingTemp = Write(store.PathOf(Guid.NewGuid()) + ".9f8e7d6c.tmp", began.AddSeconds(1));

        var removed = store.SweepOrphans(new HashSet<Guid> { kept }, began);

        Assert.Equal(2, removed);
        Assert.False(File.Exists(oldOrphan));
        Assert.False(File.Exists(oldTemp));
        Assert.True(File.Exists(referenced));
        Assert.True(File.Exists(pending));
        Assert.True(File.Exists(pendingTemp));
    }

    [Fact]
    public async Task A_written_file_is_whole_under_its_key_with_no_temporary_file_left_beside_it()
    {
        var store = new ImageStore(Microsoft.Extensions.Options.Options.Create(new StorageOptions { Root = _root }), new Environment(_root), NullLogger<ImageStore>.Instance);
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 1, 2, 3];

        var stored = await store.WritePngAsync(png);

        Assert.Equal(png, await store.ReadAsync(stored.Key));
        Assert.Equal([store.PathOf(stored.Key)], Directory.EnumerateFiles(Path.Combine(_root, "images"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Flushing_a_folder_that_does_not_exist_says_which_folder_instead_of_passing_silently()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // nothing to flush there
        }
        var missing = Path.Combine(_root, "not-here");

        var error = Assert.Throws<IOException>(() => DirectorySync.Flush(missing));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        DirectorySync.Flush(_root); // an existing folder flushes
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string Write(string path, DateTime lastWriteUtc)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [1, 2, 3]);
        File.SetLastWriteTimeUtc(path, lastWriteUtc);
        return path;
    }

    private sealed class Environment(string root) : Microsoft.Extensions.Hosting.IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Development";

        public string ApplicationName { get; set; } = "T2IStudio.Web";

        public string ContentRootPath { get; set; } = root;

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
