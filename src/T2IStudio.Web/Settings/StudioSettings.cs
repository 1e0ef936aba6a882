using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Settings;

/// <summary>
/// Server-wide settings admins change in the app, each a JSON record under a key in <see cref="StudioSetting"/>.
/// Callers check who may read or change a setting; this store only reads and writes. A value that no longer
/// parses (an older shape) reads as unset, so the caller's default applies instead of an error on every page.
/// </summary>
public sealed partial class StudioSettings(IDbContextFactory<AppDbContext> dbFactory, TimeProvider time, ILogger<StudioSettings> logger)
{
    /// <summary>Longest key (the column's length).</summary>
    public const int MaxKeyLength = 100;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The value under <paramref name="key"/>, or null when it was never set (or no longer parses).</summary>
    public async Task<T?> GetAsync<T>(string key, CancellationToken cancellationToken = default) where T : class
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var json = await RawAsync(db, key, cancellationToken);
        if (json is null)
        {
            return null;
        }
        var value = Parse<T>(json);
        if (value is null)
        {
            LogUnreadable(key);
        }
        return value;
    }

    /// <summary>
    /// The value under <paramref name="key"/> read through <paramref name="db"/>, inside whatever transaction it is in
    /// (the queue's admission reads the team defaults this way); null when unset or unreadable.
    /// </summary>
    public static async Task<T?> ReadAsync<T>(AppDbContext db, string key, CancellationToken cancellationToken = default) where T : class =>
        await RawAsync(db, key, cancellationToken) is { } json ? Parse<T>(json) : null;

    /// <summary>
    /// Stores <paramref name="value"/> under <paramref name="key"/>. Two saves at once both succeed and the later one
    /// stays: an update first, an insert when there was no row, and an update again when another save inserted it meanwhile.
    /// </summary>
    public async Task SetAsync<T>(string key, T value, CancellationToken cancellationToken = default) where T : class
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(key.Length, MaxKeyLength);
        ArgumentNullException.ThrowIfNull(value);
        var json = JsonSerializer.Serialize(value, Json);
        for (var attempt = 0; ; attempt++)
        {
            var now = time.GetUtcNow();
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var updated = await db.StudioSettings.Where(s => s.Key == key)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Value, json).SetProperty(x => x.UpdatedAt, now), cancellationToken);
            if (updated > 0)
            {
                return;
            }
            db.StudioSettings.Add(new StudioSetting { Key = key, Value = json, UpdatedAt = now });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return;
            }
            catch (DbUpdateException) when (attempt < 2)
            {
                // Another save inserted the key between our update and our insert (its primary key refused ours): update it.
            }
        }
    }

    private static Task<string?> RawAsync(AppDbContext db, string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentException.ThrowIfNullOrEmpty(key);
        return db.StudioSettings.AsNoTracking().Where(s => s.Key == key).Select(s => s.Value).SingleOrDefaultAsync(cancellationToken);
    }

    private static T? Parse<T>(string json) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server setting {Key} does not parse; it reads as unset")]
    private partial void LogUnreadable(string key);
}
