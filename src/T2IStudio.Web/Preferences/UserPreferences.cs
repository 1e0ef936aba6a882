using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;

namespace T2IStudio.Web.Preferences;

/// <summary>Per-user UI preferences stored with the account, so they follow the person across browsers.</summary>
public sealed class UserPreferences(IDbContextFactory<AppDbContext> dbFactory)
{
    /// <summary>The stored theme choice; <c>null</c> when the person never chose (follow the system).</summary>
    public async Task<bool?> GetDarkModeAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Users.Where(u => u.Id == userId).Select(u => u.PrefersDarkMode).SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>Remembers the theme choice.</summary>
    public async Task SetDarkModeAsync(string userId, bool darkMode, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Users.Where(u => u.Id == userId)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.PrefersDarkMode, darkMode), cancellationToken);
    }

    /// <summary>The Create page's remembered parameters (defaults when never saved).</summary>
    public async Task<CreateSettings> GetCreateSettingsAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var json = await db.Users.Where(u => u.Id == userId).Select(u => u.CreateSettingsJson).SingleOrDefaultAsync(cancellationToken);
        return CreateSettings.FromJson(json);
    }

    /// <summary>Remembers the Create page's parameters.</summary>
    public async Task SetCreateSettingsAsync(string userId, CreateSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var json = settings.ToJson();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Users.Where(u => u.Id == userId)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.CreateSettingsJson, json), cancellationToken);
    }
}
