using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;

namespace T2IStudio.Web.Prompts;

/// <summary>Every prompt a person submitted, once per distinct prompt and negative prompt, most recent first.</summary>
public sealed class PromptHistory(IDbContextFactory<AppDbContext> dbFactory, ResourceAccess access)
{
    /// <summary>The most entries one search returns.</summary>
    public const int MaxResults = 200;

    /// <summary>
    /// Adds the prompt to <paramref name="ownerId"/>'s history, or bumps the existing entry, in
    /// <paramref name="db"/>'s unit of work (saved with the job that used it).
    /// </summary>
    public static async Task<SavedPrompt> RecordAsync(AppDbContext db, string ownerId, string text, string negativeText, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var hash = Hash(text, negativeText);
        var entry = await db.Prompts.SingleOrDefaultAsync(p => p.OwnerId == ownerId && p.Hash == hash, cancellationToken);
        if (entry is null)
        {
            entry = new SavedPrompt { Id = Guid.NewGuid(), OwnerId = ownerId, Text = text, NegativeText = negativeText, Hash = hash, CreatedAt = now };
            db.Prompts.Add(entry);
        }
        entry.LastUsedAt = now;
        entry.UseCount++;
        return entry;
    }

    /// <summary>The signed-in person's prompts whose text contains <paramref name="query"/> (all when empty), most recent first.</summary>
    public async Task<IReadOnlyList<SavedPrompt>> SearchAsync(ClaimsPrincipal user, string? query, int take = 50, CancellationToken cancellationToken = default)
    {
        var userId = ResourceAccess.UserId(user);
        if (userId is null)
        {
            return [];
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await Matching(db, userId, query).OrderByDescending(p => p.LastUsedAt).Take(Math.Clamp(take, 1, MaxResults)).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Up to <paramref name="take"/> of the person's prompts containing <paramref name="query"/> (all when empty),
    /// most recently used first (ties by id), after <paramref name="after"/> (from the start when null): keyset
    /// paging for the API. A prompt used again moves to the front, so a later page never repeats it.
    /// </summary>
    public async Task<IReadOnlyList<SavedPrompt>> AfterAsync(ClaimsPrincipal user, string? query, Images.KeysetPosition? after, int take, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return [];
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var prompts = Matching(db, userId, query);
        if (after is { } position)
        {
            var at = position.At;
            var id = position.Id;
            prompts = prompts.Where(p => p.LastUsedAt < at || (p.LastUsedAt == at && p.Id.CompareTo(id) > 0));
        }
        return await prompts.OrderByDescending(p => p.LastUsedAt).ThenBy(p => p.Id).Take(Math.Clamp(take, 1, MaxResults)).ToListAsync(cancellationToken);
    }

    /// <summary>The person's prompts whose text or negative text contains <paramref name="query"/> (all when empty).</summary>
    private static IQueryable<SavedPrompt> Matching(AppDbContext db, string userId, string? query)
    {
        var prompts = db.Prompts.AsNoTracking().Where(p => p.OwnerId == userId);
        if (string.IsNullOrWhiteSpace(query))
        {
            return prompts;
        }
        // LIKE ignores ASCII case in SQLite, ILIKE any case in PostgreSQL; the person's %, _ and \ are escaped to match themselves.
        var pattern = Images.ImageLibrary.LikePattern(query);
        return db.Database.IsNpgsql()
            ? prompts.Where(p => EF.Functions.ILike(p.Text, pattern, "\\") || EF.Functions.ILike(p.NegativeText, pattern, "\\"))
            : prompts.Where(p => EF.Functions.Like(p.Text, pattern, "\\") || EF.Functions.Like(p.NegativeText, pattern, "\\"));
    }

    /// <summary>One entry, or null when it does not exist or is someone else's.</summary>
    public async Task<SavedPrompt?> GetAsync(ClaimsPrincipal user, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var entry = await db.Prompts.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        return await access.AllowsAsync(user, entry, ResourceOperations.Read) ? entry : null;
    }

    /// <summary>Removes an entry from the person's history; false when it does not exist or is someone else's.</summary>
    public async Task<bool> DeleteAsync(ClaimsPrincipal user, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var entry = await db.Prompts.SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (!await access.AllowsAsync(user, entry, ResourceOperations.Change))
        {
            return false;
        }
        await db.Jobs.Where(j => j.PromptId == id).ExecuteUpdateAsync(s => s.SetProperty(j => j.PromptId, (Guid?)null), cancellationToken);
        db.Prompts.Remove(entry!);
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    private static string Hash(string text, string negativeText) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text + "\u0000" + negativeText)));
}
