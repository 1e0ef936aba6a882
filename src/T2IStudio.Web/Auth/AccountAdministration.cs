using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Auth;

/// <summary>One row of the Admin page's user list.</summary>
public sealed record UserSummary(string Id, string Email, string DisplayName, DateTimeOffset CreatedAt, bool IsAdmin, bool IsDisabled);

/// <summary>The outcome of an admin action, with a message fit for a snackbar.</summary>
public sealed record AdminResult(bool Succeeded, string Message);

/// <summary>Account-wide operations: the first account becomes Admin; admins list, disable and re-enable users.</summary>
public sealed class AccountAdministration(
    UserManager<AppUser> userManager,
    RoleManager<IdentityRole> roleManager,
    IDbContextFactory<AppDbContext> dbFactory,
    UserAccessGate gate,
    ILogger<AccountAdministration> logger)
{
    /// <summary>
    /// Makes <paramref name="user"/> an Admin when it is the earliest registered account. Two accounts
    /// registering at once both compute the same earliest account, so exactly one becomes Admin.
    /// </summary>
    public async Task<bool> PromoteIfFirstAccountAsync(AppUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        await using (var db = await dbFactory.CreateDbContextAsync())
        {
            var firstId = await db.Users.OrderBy(u => u.CreatedAt).ThenBy(u => u.Id).Select(u => u.Id).FirstAsync();
            if (firstId != user.Id)
            {
                return false;
            }
        }
        if (!await roleManager.RoleExistsAsync(AppDbContext.AdminRole))
        {
            var created = await roleManager.CreateAsync(new IdentityRole(AppDbContext.AdminRole));
            if (!created.Succeeded && !await roleManager.RoleExistsAsync(AppDbContext.AdminRole))
            {
                throw new InvalidOperationException("Could not create the Admin role: " + string.Join("; ", created.Errors.Select(e => e.Description)));
            }
        }
        var added = await userManager.AddToRoleAsync(user, AppDbContext.AdminRole);
        if (!added.Succeeded)
        {
            throw new InvalidOperationException("Could not make the first account an Admin: " + string.Join("; ", added.Errors.Select(e => e.Description)));
        }
        logger.LogInformation("The first account {UserId} is now an Admin.", user.Id);
        return true;
    }

    /// <summary>All accounts, oldest first, with their role and status.</summary>
    public async Task<IReadOnlyList<UserSummary>> ListUsersAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var adminIds = await (from ur in db.UserRoles
                              join r in db.Roles on ur.RoleId equals r.Id
                              where r.Name == AppDbContext.AdminRole
                              select ur.UserId).ToListAsync(cancellationToken);
        var users = await db.Users.AsNoTracking().OrderBy(u => u.CreatedAt).ToListAsync(cancellationToken);
        return users.Select(u => new UserSummary(u.Id, u.Email ?? "", u.DisplayName, u.CreatedAt, adminIds.Contains(u.Id), u.IsDisabled)).ToList();
    }

    /// <summary>
    /// Disables or re-enables an account. A disabled account cannot sign in; its cookies and open
    /// circuits are refused at their next request or event. An admin cannot disable their own account.
    /// </summary>
    public async Task<AdminResult> SetDisabledAsync(string actingUserId, string userId, bool disabled)
    {
        if (disabled && actingUserId == userId)
        {
            return new AdminResult(false, "You cannot disable your own account.");
        }
        var user = await userManager.FindByIdAsync(userId);
        if (user is null)
        {
            return new AdminResult(false, "That account no longer exists.");
        }
        user.IsDisabled = disabled;
        var result = await userManager.UpdateAsync(user);
        if (!result.Succeeded)
        {
            return new AdminResult(false, string.Join(" ", result.Errors.Select(e => e.Description)));
        }
        // A new security stamp invalidates cookies on every node, not only this process's cache.
        await userManager.UpdateSecurityStampAsync(user);
        gate.Remember(userId, allowed: !disabled);
        logger.LogInformation("Account {UserId} {Action} by {AdminId}.", userId, disabled ? "disabled" : "re-enabled", actingUserId);
        return new AdminResult(true, disabled ? $"{user.DisplayName} is disabled and signed out." : $"{user.DisplayName} can sign in again.");
    }
}
