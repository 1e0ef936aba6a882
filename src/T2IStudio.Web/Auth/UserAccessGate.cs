using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;

namespace T2IStudio.Web.Auth;

/// <summary>
/// Answers "may this account act now?" for every HTTP request and every circuit event.
/// A disabled or deleted account is refused at its next action, not at the next revalidation.
/// Answers are cached briefly per process; a change made through <see cref="AccountAdministration"/>
/// updates the cache at once.
/// </summary>
public sealed class UserAccessGate(IDbContextFactory<AppDbContext> dbFactory, TimeProvider time)
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, (bool Allowed, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);

    /// <summary>True when the account exists and is not disabled.</summary>
    public async ValueTask<bool> IsAllowedAsync(string userId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(userId, out var entry) && entry.Until > now)
        {
            return entry.Allowed;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var disabled = await db.Users.Where(u => u.Id == userId).Select(u => (bool?)u.IsDisabled).SingleOrDefaultAsync(cancellationToken);
        var allowed = disabled == false;
        _cache[userId] = (allowed, now + CacheLifetime);
        return allowed;
    }

    /// <summary>Records a change of an account's status so the next check sees it without waiting for the cache.</summary>
    public void Remember(string userId, bool allowed) => _cache[userId] = (allowed, time.GetUtcNow() + CacheLifetime);

    /// <summary>Cookie validation: the security stamp check, then the disabled check; a refused cookie is removed.</summary>
    internal static async Task ValidatePrincipalAsync(CookieValidatePrincipalContext context)
    {
        await SecurityStampValidator.ValidatePrincipalAsync(context);
        var userId = context.Principal?.FindFirstValue(ClaimTypes.NameIdentifier);
        if (userId is null)
        {
            return;
        }
        var gate = context.HttpContext.RequestServices.GetRequiredService<UserAccessGate>();
        if (!await gate.IsAllowedAsync(userId, context.HttpContext.RequestAborted))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(IdentityConstants.ApplicationScheme);
        }
    }
}
