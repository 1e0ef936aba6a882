using System.Globalization;
using System.IO.Compression;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Access;
using T2IStudio.Web.Storage;

namespace T2IStudio.Web.Galleries;

/// <summary>A built export: the ZIP (a temporary file, deleted when the stream closes) and the name to download it as.</summary>
/// <param name="Content">The ZIP, positioned at its start; whoever takes it disposes it.</param>
/// <param name="FileName">The download's name (the gallery's name, without characters a file name cannot hold).</param>
/// <param name="Slot">The export's place in <see cref="ApprovedExportGate"/>; dispose it once the download has been sent.</param>
public sealed record ApprovedZip(Stream Content, string FileName, IDisposable Slot);

/// <summary>Why an export was refused, as an HTTP problem.</summary>
/// <param name="StatusCode">422 for a gallery above the cap, 429 while the person's or the server's exports are busy.</param>
/// <param name="Title">The problem in a few words.</param>
/// <param name="Message">What the person reads.</param>
public sealed record ApprovedExportRefusal(int StatusCode, string Title, string Message);

/// <summary>An export's outcome: exactly one of <paramref name="Zip"/> and <paramref name="Refusal"/> is set.</summary>
/// <param name="Zip">The export.</param>
/// <param name="Refusal">Why there is none.</param>
public sealed record ApprovedExportResult(ApprovedZip? Zip, ApprovedExportRefusal? Refusal);

/// <summary>
/// "Download approved": a ZIP of a gallery's approved images, each PNG exactly as stored (its bytes and embedded
/// parameters unchanged), plus <c>parameters.csv</c> with one row per image from its stored request. Anyone who sees
/// the gallery may download it; someone else's gallery reads as missing. The archive is built on a temporary file
/// (deleted on close), so the response is streamed from disk asynchronously and never held in memory. Because that
/// copies every image, a gallery with more than <see cref="GalleryOptions.MaxApprovedExportImages"/> approved images
/// is refused, and <see cref="ApprovedExportGate"/> lets one export per person and a few per server run at once.
/// </summary>
public sealed partial class ApprovedExport(IDbContextFactory<AppDbContext> dbFactory, IAuthorizationService authorization, ImageStore store,
    ApprovedExportGate gate, IOptions<GalleryOptions> options, ILogger<ApprovedExport> logger)
{
    /// <summary>Seconds a person is told to wait when their export or the server's exports are busy.</summary>
    public const int RetryAfterSeconds = 30;

    /// <summary>The CSV's name inside the ZIP.</summary>
    public const string ParametersFile = "parameters.csv";

    /// <summary>The CSV's columns, in order.</summary>
    public static readonly IReadOnlyList<string> Columns =
        ["file", "image_id", "prompt", "negative_prompt", "style", "model", "model_hash", "seed", "steps", "sampler", "cfg_scale", "width", "height", "approved_by", "approved_at"];

    /// <summary>
    /// Builds the export (the caller disposes its <see cref="ApprovedZip.Slot"/> once it is sent), a refusal when the
    /// gallery has too many approved images or an export is already running, or null when the person cannot see the
    /// gallery (or it does not exist).
    /// </summary>
    public async Task<ApprovedExportResult?> CreateAsync(ClaimsPrincipal user, Guid galleryId, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId || !await authorization.AllowsAsync(user, galleryId, GalleryOperations.View))
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var galleryName = await db.Galleries.AsNoTracking().Where(g => g.Id == galleryId).Select(g => g.Name).SingleOrDefaultAsync(cancellationToken);
        if (galleryName is null)
        {
            return null;
        }
        var max = options.Value.MaxApprovedExportImages;
        var count = await db.GalleryItems.CountAsync(i => i.GalleryId == galleryId && i.ReviewState == ReviewState.Approved, cancellationToken);
        if (count > max)
        {
            return new ApprovedExportResult(null, new ApprovedExportRefusal(StatusCodes.Status422UnprocessableEntity, "Too many approved images to export", string.Create(CultureInfo.InvariantCulture,
                $"This gallery has {count} approved images; the export takes at most {max}. Move some of them into another gallery and export each, or ask an admin to raise Galleries:MaxApprovedExportImages.")));
        }
        if (gate.TryEnter(userId) is not { } slot)
        {
            return new ApprovedExportResult(null, new ApprovedExportRefusal(StatusCodes.Status429TooManyRequests, "An export is already running",
                "An export is already being prepared (yours, or the server is busy with others). Try again once it has finished."));
        }
        try
        {
            return new ApprovedExportResult(await BuildAsync(db, galleryId, galleryName, slot, cancellationToken), null);
        }
        catch
        {
            slot.Dispose();
            throw;
        }
    }

    private async Task<ApprovedZip> BuildAsync(AppDbContext db, Guid galleryId, string galleryName, IDisposable slot, CancellationToken cancellationToken)
    {
        // Read again under the slot; the Take keeps approvals made since the count from passing the cap.
        var items = await db.GalleryItems.AsNoTracking()
            .Where(i => i.GalleryId == galleryId && i.ReviewState == ReviewState.Approved)
            .OrderBy(i => i.AddedAt).ThenBy(i => i.ImageId)
            .Select(i => new ApprovedItem(i.Image!, i.ReviewedAt, db.Users.Where(u => u.Id == i.ReviewedById).Select(u => u.DisplayName).FirstOrDefault()))
            .Take(options.Value.MaxApprovedExportImages)
            .ToListAsync(cancellationToken);

        var path = Path.Combine(Path.GetTempPath(), $"t2istudio-approved-{Guid.NewGuid():N}.zip");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            await WriteZipAsync(file, items, cancellationToken);
            file.Position = 0;
            return new ApprovedZip(file, $"{FileNameOf(galleryName)} - approved.zip", slot);
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    private async Task WriteZipAsync(Stream file, IReadOnlyList<ApprovedItem> items, CancellationToken cancellationToken)
    {
        var csv = new StringBuilder();
        AppendRow(csv, Columns);
        await using (var zip = await ZipArchive.CreateAsync(file, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, cancellationToken))
        {
            var number = 0;
            foreach (var item in items)
            {
                var image = item.Image;
                FileStream source;
                try
                {
                    source = new FileStream(store.PathOf(image.FileKey), FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
                }
                catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
                {
                    // A stored file that went missing cannot be exported; the rest still can, and the log says which.
                    LogFileMissing(logger, image.Id);
                    continue;
                }
                await using (source)
                {
                    var name = EntryName(++number, image);
                    // PNGs are compressed already: stored as they are, byte for byte.
                    var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
                    await using var target = await entry.OpenAsync(cancellationToken);
                    await source.CopyToAsync(target, cancellationToken);
                }
                AppendRow(csv, RowOf(EntryName(number, image), item));
            }
            var parameters = zip.CreateEntry(ParametersFile, CompressionLevel.Optimal);
            await using var csvStream = await parameters.OpenAsync(cancellationToken);
            // UTF-8 with a byte order mark: spreadsheet programs otherwise read the prompts in a legacy code page.
            var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(csv.ToString())).ToArray();
            await csvStream.WriteAsync(bytes, cancellationToken);
        }
        await file.FlushAsync(cancellationToken);
    }

    /// <summary>An entry's name: its number (unique), the prompt's first words (ASCII letters and digits only) and the seed.</summary>
    public static string EntryName(int number, GeneratedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var words = string.Join('-', image.Prompt.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => new string([.. w.Where(char.IsAsciiLetterOrDigit)]).ToLowerInvariant())
            .Where(w => w.Length > 0).Take(6));
        return string.Create(CultureInfo.InvariantCulture, $"{number:0000}-{(words.Length > 0 ? words + "-" : "")}{image.Seed}.png");
    }

    private static string[] RowOf(string file, ApprovedItem item)
    {
        var image = item.Image;
        var stored = GenerationMetadata.ReadStoredRequest(image.RequestJson);
        var invariant = CultureInfo.InvariantCulture;
        return
        [
            file,
            image.Id.ToString(),
            stored?.Prompt ?? image.Prompt,
            stored?.NegativePrompt ?? image.NegativePrompt,
            stored?.Style?.Name ?? "",
            image.Model,
            image.ModelHash ?? "",
            image.Seed.ToString(invariant),
            stored?.Steps.ToString(invariant) ?? "",
            stored is null ? "" : SchedulerFactory.DisplayName(stored.Scheduler),
            stored?.GuidanceScale.ToString("R", invariant) ?? "",
            image.Width.ToString(invariant),
            image.Height.ToString(invariant),
            item.ApprovedBy ?? "",
            item.ApprovedAt?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", invariant) ?? "",
        ];
    }

    /// <summary>Appends one RFC 4180 record (CRLF-terminated).</summary>
    private static void AppendRow(StringBuilder csv, IEnumerable<string> cells)
    {
        var first = true;
        foreach (var cell in cells)
        {
            if (!first)
            {
                csv.Append(',');
            }
            first = false;
            csv.Append(CsvCell(cell));
        }
        csv.Append("\r\n");
    }

    /// <summary>
    /// One CSV cell. Prompts are other people's words: a cell that starts with = + - @, a tab or a carriage return
    /// would run as a formula when the file is opened in a spreadsheet (CSV injection), so it gets a leading
    /// apostrophe, which spreadsheets show as text. Then RFC 4180 quoting: a cell holding a comma, a quote or a line
    /// break is quoted, its quotes doubled.
    /// </summary>
    public static string CsvCell(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
    }

    /// <summary>The gallery's name as a file name: characters no file system takes (and control characters) become dashes.</summary>
    private static string FileNameOf(string galleryName)
    {
        var name = new string([.. galleryName.Select(c => char.IsControl(c) || "/\\:*?\"<>|".Contains(c, StringComparison.Ordinal) ? '-' : c)]).Trim();
        return name.Length == 0 ? "gallery" : name;
    }

    private sealed record ApprovedItem(GeneratedImage Image, DateTimeOffset? ApprovedAt, string? ApprovedBy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Approved image {ImageId} has no stored file and was left out of the export")]
    private static partial void LogFileMissing(ILogger logger, Guid imageId);
}
