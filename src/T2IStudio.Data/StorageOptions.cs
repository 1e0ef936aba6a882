using System.ComponentModel.DataAnnotations;

namespace T2IStudio.Data;

/// <summary>Where T2I Studio keeps its database and files (<c>Storage</c> section).</summary>
public sealed record StorageOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string Section = "Storage";

    /// <summary>Folder for the SQLite database and image files; relative paths are under the content root.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Storage:Root must name a folder.")]
    public string Root { get; init; } = "data";

    /// <summary>How long a writer waits for SQLite's lock before failing, in milliseconds.</summary>
    [Range(100, 60_000, ErrorMessage = "Storage:BusyTimeoutMs must be between 100 and 60000.")]
    public int BusyTimeoutMs { get; init; } = 5_000;

    /// <summary>The database file name inside <see cref="Root"/>.</summary>
    public const string DatabaseFileName = "t2istudio.db";
}
