using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using T2IStudio.Data;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Auth;

/// <summary>What the register page may offer before anything is posted.</summary>
/// <param name="Mode">The configured registration mode.</param>
/// <param name="CanRegister">The form is shown (it may still need an invitation for the email typed).</param>
/// <param name="Notice">A sentence for the person: why the form is missing, or what it needs.</param>
/// <param name="IsFirstAccount">Nobody has an account yet: this one becomes the administrator.</param>
public sealed record RegistrationStatus(RegistrationMode Mode, bool CanRegister, string? Notice, bool IsFirstAccount);

/// <summary>The outcome of a registration: the new account, or why not.</summary>
/// <param name="User">The account, when it was created.</param>
/// <param name="Errors">Why it was refused, in words for the person.</param>
/// <param name="IsAdmin">It was the first account and is now the administrator.</param>
public sealed record RegistrationResult(AppUser? User, IReadOnlyList<string> Errors, bool IsAdmin = false)
{
    /// <summary>True when the account was created.</summary>
    public bool Succeeded => User is not null && Errors.Count == 0;
}

/// <summary>
/// Creates accounts under <c>Accounts:Registration</c>. Who may register and whether the account is the first
/// (and so the administrator) are decided inside one immediate SQLite transaction together with the insert, so
/// concurrent first registrations produce exactly one administrator and an invite link registers exactly one
/// account. The password is validated and hashed before the write lock is taken, as that is the slow part.
/// It uses the scope's <see cref="AppDbContext"/> rather than a factory-made one on purpose: Identity's stores use
/// that same context, which is what puts their inserts inside this transaction.
/// </summary>
public sealed partial class AccountRegistration(
    AppDbContext db,
    UserManager<AppUser> userManager,
    RoleManager<IdentityRole> roleManager,
    IOptionsMonitor<AccountOptions> options,
    TimeProvider time,
    ILogger<AccountRegistration> logger)
{
    /// <summary>Shown when registration is closed.</summary>
    public const string ClosedMessage = "Registration is closed on this T2I Studio. Ask an administrator for an account.";

    /// <summary>Shown when registration needs an invitation and none matches.</summary>
    public const string InvitationNeededMessage =
        "Registration here needs an invitation: open the invite link an administrator sent you, or use the email address a team invited.";

    /// <summary>Shown for an invite link that cannot be used.</summary>
    public const string BadInviteLinkMessage =
        "This invite link cannot be used: it was used already, it expired, or it was copied incompletely. Ask an administrator for a new one.";

    /// <summary>Shown when the email already has an account (registration cannot hide that without email confirmation).</summary>
    public const string EmailTakenMessage = "This email cannot be used to register. If you already have an account, sign in instead.";

    /// <summary>What the register page offers for <paramref name="inviteToken"/> (from <c>?invite=</c>).</summary>
    public async Task<RegistrationStatus> StatusAsync(string? inviteToken, CancellationToken cancellationToken = default)
    {
        var mode = options.CurrentValue.Registration;
        var first = !await db.Users.AnyAsync(cancellationToken);
        if (first)
        {
            return new(mode, true, mode == RegistrationMode.Open ? null : "Nobody has an account here yet: this one becomes the administrator.", true);
        }
        return mode switch
        {
            RegistrationMode.Closed => new(mode, false, ClosedMessage, false),
            RegistrationMode.InviteOnly when !string.IsNullOrEmpty(inviteToken) => await UsableLinkAsync(inviteToken, cancellationToken) is null
                ? new(mode, false, BadInviteLinkMessage, false)
                : new(mode, true, "Your invite link lets you create one account.", false),
            RegistrationMode.InviteOnly => new(mode, true, InvitationNeededMessage, false),
            _ => new(mode, true, null, false),
        };
    }

    /// <summary>Creates the account if the registration mode allows it; the first account of the install becomes Admin.</summary>
    public async Task<RegistrationResult> RegisterAsync(string email, string? displayName, string password, string? inviteToken, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(email);
        ArgumentNullException.ThrowIfNull(password);
        email = email.Trim();
        var user = new AppUser
        {
            UserName = email,
            Email = email,
            DisplayName = string.IsNullOrWhiteSpace(displayName) ? email.Split('@')[0] : displayName.Trim(),
            CreatedAt = time.GetUtcNow(),
        };
        var passwordErrors = new List<string>();
        foreach (var validator in userManager.PasswordValidators)
        {
            var checkedPassword = await validator.ValidateAsync(userManager, user, password);
            passwordErrors.AddRange(checkedPassword.Errors.Select(e => e.Description));
        }
        if (passwordErrors.Count > 0)
        {
            return new(null, passwordErrors.Distinct().ToList());
        }
        user.PasswordHash = userManager.PasswordHasher.HashPassword(user, password);

        var mode = options.CurrentValue.Registration;
        // BEGIN IMMEDIATE: one registration at a time decides "first" and "invited" on current rows.
        await using var transaction = await db.Database.BeginWriteTransactionAsync(WriteScope.Registration, cancellationToken);
        var first = !await db.Users.AnyAsync(cancellationToken);
        InviteLink? link = null;
        if (!first && mode != RegistrationMode.Open)
        {
            if (mode == RegistrationMode.Closed)
            {
                return new(null, [ClosedMessage]);
            }
            if (!string.IsNullOrEmpty(inviteToken))
            {
                link = await UsableLinkAsync(inviteToken, cancellationToken);
                if (link is null)
                {
                    return new(null, [BadInviteLinkMessage]);
                }
            }
            else
            {
                var normalized = userManager.NormalizeEmail(email);
                if (!await db.TeamInvitations.AnyAsync(i => i.NormalizedEmail == normalized, cancellationToken))
                {
                    return new(null, [InvitationNeededMessage]);
                }
            }
        }

        var created = await userManager.CreateAsync(user);
        if (!created.Succeeded)
        {
            return new(null, created.Errors
                .Select(e => e.Code is "DuplicateUserName" or "DuplicateEmail" ? EmailTakenMessage : e.Description)
                .Distinct().ToList());
        }
        if (link is not null)
        {
            link.UsedAt = time.GetUtcNow();
            link.UsedById = user.Id;
            await db.SaveChangesAsync(cancellationToken);
        }
        if (first)
        {
            await MakeAdminAsync(userManager, roleManager, user);
        }
        await transaction.CommitAsync(cancellationToken);
        LogRegistered(user.Id, mode, first, link is not null);
        return new(user, [], IsAdmin: first);
    }

    /// <summary>The SHA-256 (lower-case hex) under which an invite token is stored.</summary>
    public static string HashToken(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token.Trim())));

    private Task<InviteLink?> UsableLinkAsync(string token, CancellationToken cancellationToken)
    {
        var hash = HashToken(token);
        var now = time.GetUtcNow();
        return db.InviteLinks.SingleOrDefaultAsync(l => l.TokenHash == hash && l.UsedAt == null && l.ExpiresAt > now, cancellationToken);
    }

    /// <summary>Puts <paramref name="user"/> in the Admin role, creating the role on an empty install (the first account).</summary>
    internal static async Task MakeAdminAsync(UserManager<AppUser> userManager, RoleManager<IdentityRole> roleManager, AppUser user)
    {
        if (!await roleManager.RoleExistsAsync(AppDbContext.AdminRole))
        {
            var role = await roleManager.CreateAsync(new IdentityRole(AppDbContext.AdminRole));
            if (!role.Succeeded)
            {
                throw new InvalidOperationException("Could not create the Admin role: " + string.Join("; ", role.Errors.Select(e => e.Description)));
            }
        }
        var added = await userManager.AddToRoleAsync(user, AppDbContext.AdminRole);
        if (!added.Succeeded)
        {
            throw new InvalidOperationException("Could not make the first account an Admin: " + string.Join("; ", added.Errors.Select(e => e.Description)));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Account {UserId} registered (registration {Mode}, first account and so Admin: {IsAdmin}, invite link: {ByLink})")]
    private partial void LogRegistered(string userId, RegistrationMode mode, bool isAdmin, bool byLink);
}
