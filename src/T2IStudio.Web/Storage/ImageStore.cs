using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using T2IStudio.Data;
using T2IStudio.Generation.Imaging;

namespace T2IStudio.Web.Storage;

/// <summary>A stored PNG: its key, SHA-256 (hex) and size.</summary>
/// <param name="Key">The file key.</param>
/// <param name="Sha256">SHA-256 of the bytes, lower-case hex.</param>
/// <param name="SizeBytes">Length of the PNG.</param>
public sealed record StoredFile(Guid Key, string Sha256, long SizeBytes);

/// <summary>
/// Image files under <c>Storage:Root/images</c>, keyed by GUID (never by a name a user chose). A file is
/// written to a temporary name, flushed to disk and renamed, and the folder is flushed after the rename, so a
/// row committed after it always finds a whole file, even after a power cut; a thumbnail is made once, at the same time.
/// </summary>
public sealed partial class ImageStore
{
    private const string TempSuffix = ".tmp";
    private readonly string _root;
    private readonly ILogger<ImageStore> _logger;

    /// <summary>Creates the store under the configured storage root.</summary>
    public ImageStore(IOptions<StorageOptions> options, IHostEnvironment environment, ILogger<ImageStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        _root = ImageFiles.FolderOf(DataServiceExtensions.ResolveRoot(options.Value.Root, environment.ContentRootPath));
        _logger = logger;
    }

    /// <summary>The PNG of <paramref name="key"/>.</summary>
    public string PathOf(Guid key) => ImageFiles.PngPath(_root, key);

    /// <summary>The thumbnail of <paramref name="key"/>.</summary>
    public string ThumbnailPathOf(Guid key) => ImageFiles.ThumbnailPath(_root, key);

    /// <summary>Writes <paramref name="png"/> and a thumbnail of <paramref name="image"/> durably under a new key.</summary>
    public async Task<StoredFile> WriteAsync(RgbImage image, byte[] png, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(png);
        var key = Guid.NewGuid();
        await WriteDurablyAsync(ThumbnailPathOf(key), WebImages.ThumbnailWebp(image), cancellationToken);
        return await WriteAsync(key, png, cancellationToken);
    }

    /// <summary>Writes a PNG without a thumbnail (an inpainting source or mask) durably under a new key.</summary>
    public Task<StoredFile> WritePngAsync(byte[] png, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(png);
        return WriteAsync(Guid.NewGuid(), png, cancellationToken);
    }

    /// <summary>
    /// Makes the thumbnail of <paramref name="key"/> from its PNG unless it exists (an image stored without one, or
    /// one whose thumbnail was lost); false when there is no PNG either. Safe with several nodes on one shared
    /// <c>Storage:Root</c>: each writes its own temporary name and renames it into place without replacing, so a
    /// reader finds no file or a whole one; when two make it at once, the first rename wins and both serve it.
    /// </summary>
    public async Task<bool> EnsureThumbnailAsync(Guid key, CancellationToken cancellationToken = default)
    {
        var thumbnail = ThumbnailPathOf(key);
        if (File.Exists(thumbnail))
        {
            return true;
        }
        byte[] png;
        try
        {
            png = await File.ReadAllBytesAsync(PathOf(key), cancellationToken);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        RgbImage image;
        using (var stream = new MemoryStream(png, writable: false))
        {
            image = PngFiles.DecodeStored(stream);
        }
        await WriteDurablyAsync(thumbnail, WebImages.ThumbnailWebp(image), cancellationToken, anotherMayWriteIt: true);
        return true;
    }

    /// <summary>The bytes of the PNG of <paramref name="key"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public Task<byte[]> ReadAsync(Guid key, CancellationToken cancellationToken = default) =>
        File.ReadAllBytesAsync(PathOf(key), cancellationToken);

    private async Task<StoredFile> WriteAsync(Guid key, byte[] png, CancellationToken cancellationToken)
    {
        await WriteDurablyAsync(PathOf(key), png, cancellationToken);
        return new StoredFile(key, Convert.ToHexStringLower(SHA256.HashData(png)), png.Length);
    }

    /// <summary>Removes the files of <paramref name="key"/>; missing files are fine.</summary>
    /// <remarks>
    /// Not flushed: a delete a power cut undoes leaves a file no row names, which the next start sweeps away;
    /// keys are never reused, so the file cannot come back under a row.
    /// </remarks>
    public void Delete(Guid key)
    {
        File.Delete(PathOf(key));
        File.Delete(ThumbnailPathOf(key));
    }

    /// <summary>
    /// Deletes files no row refers to (a crash between file and row) and unfinished temporary files, among the
    /// files last written before <paramref name="writtenBefore"/>. Run at start, before the server takes
    /// requests; the age bound also keeps it off any file a write begun after that moment owns (a write of this
    /// process whose row is not committed yet), should it ever run later.
    /// </summary>
    /// <param name="referenced">Every key a row names.</param>
    /// <param name="writtenBefore">Only files last written before this moment (the file system's clock, UTC) are candidates.</param>
    /// <returns>How many files were removed.</returns>
    public int SweepOrphans(IReadOnlySet<Guid> referenced, DateTime writtenBefore)
    {
        ArgumentNullException.ThrowIfNull(referenced);
        if (!Directory.Exists(_root))
        {
            return 0;
        }
        var removed = 0;
        var touched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(path);
            var keyText = name.Split('.')[0];
            var orphan = name.EndsWith(TempSuffix, StringComparison.Ordinal)
                || !Guid.TryParseExact(keyText, "N", out var key)
                || !referenced.Contains(key);
            if (orphan && File.GetLastWriteTimeUtc(path) < writtenBefore)
            {
                File.Delete(path);
                touched.Add(Path.GetDirectoryName(path)!);
                removed++;
            }
        }
        // Not needed for correctness (a lost delete is swept again), but a sweep that sticks is one less to redo.
        foreach (var directory in touched)
        {
            DirectorySync.Flush(directory);
        }
        if (removed > 0)
        {
            LogSwept(removed);
        }
        return removed;
    }

    /// <summary>
    /// Writes <paramref name="bytes"/> to a temporary name of its own (so writers on several nodes never share
    /// one), flushes it to disk and renames it to <paramref name="path"/> without replacing: a reader sees no file or
    /// the whole file, never part of one. When <paramref name="anotherMayWriteIt"/>, a file another writer renamed
    /// there first is as good as this one (the same content, made from the same source): this one is dropped.
    /// </summary>
    private static async Task WriteDurablyAsync(string path, byte[] bytes, CancellationToken cancellationToken, bool anotherMayWriteIt = false)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            // A new shard folder: its name in images/ (and images/ in the storage root) must be durable too.
            Directory.CreateDirectory(directory);
            var images = Path.GetDirectoryName(directory)!;
            DirectorySync.Flush(Path.GetDirectoryName(images)!);
            DirectorySync.Flush(images);
        }
        var temp = path + "." + Guid.NewGuid().ToString("N")[..8] + TempSuffix;
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(bytes, cancellationToken);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (anotherMayWriteIt && File.Exists(path))
        {
            File.Delete(temp); // the other writer's rename won
            return;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        // The rename lives in the folder: flush it, so a row committed next never names a file a power cut took back.
        DirectorySync.Flush(directory);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} orphan image file(s)")]
    private partial void LogSwept(int count);
}
