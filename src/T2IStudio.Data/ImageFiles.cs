namespace T2IStudio.Data;

/// <summary>
/// Where image files live under <c>Storage:Root</c>: <c>images/xx/KEY.png</c> and <c>KEY.thumb.webp</c>, sharded by
/// the key's first two hex digits. The one definition the image store and the database copy both use.
/// </summary>
public static class ImageFiles
{
    /// <summary>The images folder under a resolved storage root.</summary>
    public static string FolderOf(string storageRoot) => Path.Combine(Path.GetFullPath(storageRoot), "images");

    /// <summary>The PNG of <paramref name="key"/> under <paramref name="imagesFolder"/>.</summary>
    public static string PngPath(string imagesFolder, Guid key) => Path.Combine(imagesFolder, Shard(key), key.ToString("N") + ".png");

    /// <summary>The thumbnail of <paramref name="key"/> under <paramref name="imagesFolder"/>.</summary>
    public static string ThumbnailPath(string imagesFolder, Guid key) => Path.Combine(imagesFolder, Shard(key), key.ToString("N") + ".thumb.webp");

    private static string Shard(Guid key) => key.ToString("N")[..2];
}
