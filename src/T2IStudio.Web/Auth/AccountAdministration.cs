using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using T2IStudio.Data;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Auth;

/// <summary>One row of the Admin page's user list.</summary>
public sealed record UserSummary(string Id, string Email, string DisplayName, DateTimeOffset CreatedAt, bool IsAdmin, bool IsDisabled)
{
    /// <summary>The account signs in with a second factor.</summary>
    public bool TwoFactorEnabled { get; init; }

    /// <summary>The account's email was confirmed by mail.</summary>
    public bool EmailConfirmed { get; init; }
}

/// <summary>The outcome of an admin action, with a message fit for a snackbar.</summary>
public sealed record AdminResult(bool Succeeded, string Message);

/// <summary>A new invite link, shown once to the administrator who made it.</summary>
/// <param name="Url">The register page with the link's token.</param>
/// <param name="ExpiresAt">When it stops working.</param>
public sealed record InviteLinkCreated(Uri Url, DateTimeOffset ExpiresAt);

/// <summary>Account-wide operations: admins list, disable and re-enable users, and make invite links.</summary>
public sealed partial class AccountAdministration(
    UserManager<AppUser> userManager,
    IDbContextFactory<AppDbContext> dbFactory,
    UserAccessGate gate,
    IOptionsMonitor<AccountOptions> accountOptions,
    TimeProvider time,
    ILogger<AccountAdministration> logger)
{
    /// <summary>
    /// Makes a single-use invite link that lets one person register while <c>Accounts:Registration</c> is
    /// <c>InviteOnly</c>; it expires after <c>Accounts:InviteLinkDays</c>. Only the token's hash is stored, so the
    /// link is shown this once.
    /// </summary>
    /// <param name="actingUserId">The administrator.</param>
    /// <param name="registerPageUrl">The absolute address of the register page.</param>
    /// <param name="cancellationToken">Stops the work.</param>
    public async Task<InviteLinkCreated> CreateInviteLinkAsync(string actingUserId, Uri registerPageUrl, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(actingUserId);
        ArgumentNullException.ThrowIfNull(registerPageUrl);
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow();
        var link = new InviteLink
        {
            Id = Guid.NewGuid(),
            TokenHash = AccountRegistration.HashToken(token),
            CreatedById = actingUserId,
            CreatedAt = now,
            ExpiresAt = now.AddDays(accountOptions.CurrentValue.InviteLinkDays),
        };
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.InviteLinks.Add(link);
        await db.SaveChangesAsync(cancellationToken);
        LogInviteLinkCreated(actingUserId, link.ExpiresAt);
        var url = new UriBuilder(registerPageUrl) { Query = "invite=" + token }.Uri;
        return new InviteLinkCreated(url, link.ExpiresAt);
    }

    /// <summary>All accounts, oldest first, with their role and status.</summary>
    public async Task<IReadOnlyList<UserSummary>> ListUsersAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var adminIds = await db.AdminUserIds().ToListAsync(cancellationToken);
        var users = await db.Users.AsNoTracking().OrderBy(u => u.CreatedAt).ToListAsync(cancellationToken);
        return users.Select(u => new UserSummary(u.Id, u.Email ?? "", u.DisplayName, u.CreatedAt, adminIds.Contains(u.Id), u.IsDisabled)
        {
            TwoFactorEnabled = u.TwoFactorEnabled,
            EmailConfirmed = u.EmailConfirmed,
        }).ToList();
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
        LogAccessChanged(userId, disabled ? "disabled" : "re-enabled", actingUserId);
        return new AdminResult(true, disabled ? $"{user.DisplayName} is disabled and signed out." : $"{user.DisplayName} can sign in again.");
    }

    /// <summary>
    /// Turns off someone's two-factor authentication and forgets their authenticator key and recovery codes, for a
    /// person who lost both their phone and their codes. Their sessions end (a new security stamp); at the next sign-in
    /// the password is enough, or enrolment is asked for again when <c>Accounts:RequireTwoFactor</c> is on.
    /// </summary>
    public async Task<AdminResult> ResetTwoFactorAsync(string actingUserId, string userId)
    {
        ArgumentException.ThrowIfNullOrEmpty(actingUserId);
        var user = await userManager.FindByIdAsync(userId);
        if (user is null)
        {
            return new AdminResult(false, "That account no longer exists.");
        }
        if (!user.TwoFactorEnabled)
        {
            return new AdminResult(false, $"{user.DisplayName} does not use two-factor authentication.");
        }
        var result = await userManager.SetTwoFactorEnabledAsync(user, false);
        if (!result.Succeeded)
        {
            return new AdminResult(false, string.Join(" ", result.Errors.Select(e => e.Description)));
        }
        await userManager.RemoveAuthenticationTokenAsync(user, "[AspNetUserStore]", "AuthenticatorKey");
        await userManager.RemoveAuthenticationTokenAsync(user, "[AspNetUserStore]", "RecoveryCodes");
        await TwoFactor.SingleUseAuthenticatorTokenProvider.ForgetAsync(userManager, user);
        await userManager.UpdateSecurityStampAsync(user);
        LogAccessChanged(userId, "had two-factor authentication reset", actingUserId);
        return new AdminResult(true, $"Two-factor authentication is off for {user.DisplayName}; they are signed out and can enrol again.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin {AdminId} made an invite link valid until {ExpiresAt:u}.")]
    private partial void LogInviteLinkCreated(string adminId, DateTimeOffset expiresAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Account {UserId} {Action} by {AdminId}.")]
    private partial void LogAccessChanged(string userId, string action, string adminId);
}
