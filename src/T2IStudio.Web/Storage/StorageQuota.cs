using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using T2IStudio.Data;

namespace T2IStudio.Web.Storage;

/// <summary>The per-person storage limit (section <c>Storage</c>).</summary>
public sealed record StorageQuotaOptions
{
    /// <summary>The configuration section (shared with <see cref="StorageOptions"/>).</summary>
    public const string Section = StorageOptions.Section;

    /// <summary>Megabytes (MiB, 1,048,576 bytes) of stored files one person may have; 0 (the default) for no limit.</summary>
    [Range(0, int.MaxValue, ErrorMessage = "Storage:QuotaMegabytesPerUser must be 0 (no limit) or a positive number of megabytes.")]
    public int QuotaMegabytesPerUser { get; init; }
}

/// <summary>What a person stores and may store.</summary>
/// <param name="UsedBytes">Bytes of the person's stored files.</param>
/// <param name="QuotaBytes">Their limit, or null when there is none.</param>
public sealed record StorageUsage(long UsedBytes, long? QuotaBytes)
{
    /// <summary>True when a limit exists and the usage has reached it.</summary>
    public bool IsFull => QuotaBytes is { } quota && UsedBytes >= quota;

    /// <summary>"12.3 MB of 500 MB", or "12.3 MB used" without a limit.</summary>
    public string Describe() => QuotaBytes is { } quota ? $"{Megabytes(UsedBytes)} of {Megabytes(quota)}" : $"{Megabytes(UsedBytes)} used";

    /// <summary>Bytes as megabytes (MiB) with at most one decimal, e.g. "12.3 MB".</summary>
    public static string Megabytes(long bytes) =>
        (bytes / (double)StorageQuota.BytesPerMegabyte).ToString("0.#", CultureInfo.InvariantCulture) + " MB";
}

/// <summary>
/// Per-person storage: the bytes of the PNGs of every image they own (those a gallery keeps after they deleted
/// them too, since those files still exist because of them) plus the inpainting sources and masks their jobs
/// hold. Thumbnails (a few kilobytes each) are not counted. A submit is refused once the usage reaches
/// <c>Storage:QuotaMegabytesPerUser</c>; the job that crosses the line finishes.
/// </summary>
public sealed class StorageQuota(IDbContextFactory<AppDbContext> dbFactory, ImageStore store, IOptions<StorageQuotaOptions> options)
{
    /// <summary>Bytes in one megabyte as the quota counts them.</summary>
    public const long BytesPerMegabyte = 1024 * 1024;

    /// <summary>How much <paramref name="userId"/> stores, and their limit.</summary>
    public async Task<StorageUsage> UsageAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var images = await db.Images.Where(i => i.OwnerId == userId).SumAsync(i => i.SizeBytes, cancellationToken);
        // Sources and masks have no size column: they are measured on disk (a missing file counts nothing).
        var inpaint = await db.Jobs.Where(j => j.OwnerId == userId && (j.SourceFileKey != null || j.MaskFileKey != null))
            .Select(j => new { j.SourceFileKey, j.MaskFileKey })
            .ToListAsync(cancellationToken);
        var files = inpaint.SelectMany(j => new[] { j.SourceFileKey, j.MaskFileKey }).OfType<Guid>().Distinct().Sum(SizeOnDisk);
        var quota = options.Value.QuotaMegabytesPerUser;
        return new StorageUsage(images + files, quota > 0 ? quota * BytesPerMegabyte : null);
    }

    /// <summary>Why <paramref name="userId"/> may not store more right now, in words for them; null when they may.</summary>
    public async Task<string?> RefusalAsync(string userId, CancellationToken cancellationToken = default)
    {
        if (options.Value.QuotaMegabytesPerUser == 0)
        {
            return null;
        }
        var usage = await UsageAsync(userId, cancellationToken);
        return usage.IsFull
            ? $"Your images use {StorageUsage.Megabytes(usage.UsedBytes)} of your {StorageUsage.Megabytes(usage.QuotaBytes!.Value)} of storage. Delete some images to make room, then try again."
            : null;
    }

    private long SizeOnDisk(Guid key)
    {
        var file = new FileInfo(store.PathOf(key));
        return file.Exists ? file.Length : 0;
    }
}
