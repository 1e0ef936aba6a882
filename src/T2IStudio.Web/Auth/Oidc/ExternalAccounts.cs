using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using T2IStudio.Data;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Auth.Oidc;

/// <summary>The account a company sign-in resolves to, or why there is none.</summary>
/// <param name="User">The account to sign in, when allowed.</param>
/// <param name="Refusal">Why not, when <paramref name="User"/> is null.</param>
/// <param name="Created">A new account was made for this sign-in.</param>
/// <param name="Linked">An existing account was linked to the provider account by this sign-in.</param>
public sealed record ExternalSignIn(AppUser? User, ExternalRefusal Refusal, bool Created = false, bool Linked = false)
{
    /// <summary>True when <see cref="User"/> may be signed in.</summary>
    public bool Succeeded => User is not null && Refusal == ExternalRefusal.None;

    internal static ExternalSignIn Refused(ExternalRefusal refusal) => new(null, refusal);
}

/// <summary>
/// Matches a company sign-in to an account here: the account already linked to that provider subject; else the
/// account with the same email, linked automatically only when the provider verified the email AND the account here
/// confirmed it (otherwise whoever registers an unconfirmed email here, or at a lax provider, would take the other
/// side's account over); else a new account, under <c>Accounts:Registration</c> exactly as the register page decides
/// it. The provider login is stored in Identity's AspNetUserLogins (provider <see cref="OidcOptions.Scheme"/>, key
/// the subject, display name the provider's email, shown on the account page).
/// </summary>
public sealed partial class ExternalAccounts(
    AppDbContext db,
    UserManager<AppUser> userManager,
    SignInManager<AppUser> signInManager,
    RoleManager<IdentityRole> roleManager,
    IOptionsMonitor<OidcOptions> oidcOptions,
    IOptionsMonitor<AccountOptions> accountOptions,
    TimeProvider time,
    ILogger<ExternalAccounts> logger)
{
    /// <summary>The account <paramref name="identity"/> signs in to, linking or creating it when the rules allow.</summary>
    /// <param name="identity">What the provider said.</param>
    /// <param name="inviteToken">An administrator's invite link token carried through the sign-in, if any.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<ExternalSignIn> SignInAsync(ExternalIdentity identity, string? inviteToken, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var options = oidcOptions.CurrentValue;
        if (!options.IsEnabled)
        {
            return ExternalSignIn.Refused(ExternalRefusal.NotConfigured);
        }
        // The company's rules come first, for linked accounts too: a person moved out of an allowed domain stays out.
        (identity, var screened) = Screen(identity, options);
        if (screened != ExternalRefusal.None)
        {
            return ExternalSignIn.Refused(screened);
        }

        var linked = await userManager.FindByLoginAsync(OidcOptions.Scheme, identity.Subject);
        if (linked is not null)
        {
            return await AdmitAsync(linked);
        }

        var sameEmail = await userManager.FindByEmailAsync(identity.Email!);
        if (sameEmail is not null)
        {
            // The lookup folds case with Unicode rules; only the same address up to ASCII case is the same person's.
            if (!identity.EmailVerified || !sameEmail.EmailConfirmed || !SameAddress(sameEmail.Email, identity.Email!))
            {
                LogNotLinked(sameEmail.Id, identity.EmailVerified, sameEmail.EmailConfirmed);
                return ExternalSignIn.Refused(ExternalRefusal.EmailTaken);
            }
            var admitted = await AdmitAsync(sameEmail);
            if (!admitted.Succeeded)
            {
                return admitted;
            }
            var refusal = await AddLoginAsync(sameEmail, identity);
            if (refusal != ExternalRefusal.None)
            {
                return ExternalSignIn.Refused(refusal);
            }
            LogLinked(sameEmail.Id, automatically: true);
            return admitted with { Linked = true };
        }

        return await CreateAsync(identity, inviteToken, cancellationToken);
    }

    /// <summary>Links <paramref name="identity"/> to <paramref name="user"/>, the signed-in account, from the account page.</summary>
    public async Task<ExternalRefusal> LinkAsync(AppUser user, ExternalIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(identity);
        var options = oidcOptions.CurrentValue;
        if (!options.IsEnabled)
        {
            return ExternalRefusal.NotConfigured;
        }
        (identity, var screened) = Screen(identity, options);
        if (screened != ExternalRefusal.None)
        {
            return screened;
        }
        var owner = await userManager.FindByLoginAsync(OidcOptions.Scheme, identity.Subject);
        if (owner is not null)
        {
            return owner.Id == user.Id ? ExternalRefusal.None : ExternalRefusal.LinkedElsewhere;
        }
        var refusal = await AddLoginAsync(user, identity);
        if (refusal == ExternalRefusal.None)
        {
            LogLinked(user.Id, automatically: false);
        }
        return refusal;
    }

    /// <summary>
    /// Removes the provider login of <paramref name="user"/>, unless that would leave no way in: with
    /// <c>Authentication:Oidc:Only=true</c> passwords are refused, so the provider is the only way in whatever the
    /// account has; and an account made by a company sign-in has no password to fall back on.
    /// </summary>
    public async Task<ExternalRefusal> UnlinkAsync(AppUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var login = await LinkedLoginAsync(user);
        if (login is null)
        {
            return ExternalRefusal.None;
        }
        if (!await CanUnlinkAsync(user))
        {
            return ExternalRefusal.OnlyWayIn;
        }
        var removed = await userManager.RemoveLoginAsync(user, login.LoginProvider, login.ProviderKey);
        if (!removed.Succeeded)
        {
            throw new InvalidOperationException("Could not unlink the company login: " + string.Join("; ", removed.Errors.Select(e => e.Description)));
        }
        LogUnlinked(user.Id);
        return ExternalRefusal.None;
    }

    /// <summary>True when the account keeps a way in without its provider login.</summary>
    public async Task<bool> CanUnlinkAsync(AppUser user) =>
        !oidcOptions.CurrentValue.Only && await userManager.HasPasswordAsync(user);

    /// <summary>The account's provider login (its display name is the provider's email), or null when not linked.</summary>
    public async Task<UserLoginInfo?> LinkedLoginAsync(AppUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return (await userManager.GetLoginsAsync(user)).FirstOrDefault(l => l.LoginProvider == OidcOptions.Scheme);
    }

    /// <summary>
    /// The company's rules for the provider's email: present, plain ASCII (see <see cref="ExternalIdentity.EmailIsAscii"/>),
    /// verified when domains are restricted (a self-service provider lets anyone claim any address), and in an allowed
    /// domain. Returns the identity with <see cref="OidcOptions.AssumeVerifiedEmails"/> applied.
    /// </summary>
    private static (ExternalIdentity Identity, ExternalRefusal Refusal) Screen(ExternalIdentity identity, OidcOptions options)
    {
        if (identity.Email is null || identity.EmailDomain is null)
        {
            return (identity, ExternalRefusal.EmailMissing);
        }
        if (!identity.EmailIsAscii)
        {
            return (identity, ExternalRefusal.EmailNotAscii);
        }
        if (options.AssumeVerifiedEmails)
        {
            identity = identity with { EmailVerified = true };
        }
        if (!identity.IsInAllowedDomain(options))
        {
            return (identity, ExternalRefusal.DomainNotAllowed);
        }
        if (options.AllowedDomains.Count > 0 && !identity.EmailVerified)
        {
            return (identity, ExternalRefusal.EmailNotVerified);
        }
        return (identity, ExternalRefusal.None);
    }

    private static bool SameAddress(string? stored, string provided) =>
        stored is not null && Ascii.IsValid(stored) && string.Equals(stored, provided, StringComparison.OrdinalIgnoreCase);

    private async Task<ExternalSignIn> AdmitAsync(AppUser user)
    {
        // Disabled accounts stay out whatever the provider says; lockout holds on this path too.
        if (user.IsDisabled)
        {
            return ExternalSignIn.Refused(ExternalRefusal.Disabled);
        }
        if (await userManager.IsLockedOutAsync(user))
        {
            return ExternalSignIn.Refused(ExternalRefusal.LockedOut);
        }
        return await signInManager.CanSignInAsync(user)
            ? new ExternalSignIn(user, ExternalRefusal.None)
            : ExternalSignIn.Refused(ExternalRefusal.Unconfirmed);
    }

    private async Task<ExternalRefusal> AddLoginAsync(AppUser user, ExternalIdentity identity)
    {
        if (await LinkedLoginAsync(user) is not null)
        {
            return ExternalRefusal.AlreadyLinked;
        }
        var added = await userManager.AddLoginAsync(user, new UserLoginInfo(OidcOptions.Scheme, identity.Subject, identity.Email));
        if (!added.Succeeded)
        {
            return added.Errors.Any(e => e.Code == "LoginAlreadyAssociated")
                ? ExternalRefusal.LinkedElsewhere
                : throw new InvalidOperationException("Could not link the company login: " + string.Join("; ", added.Errors.Select(e => e.Description)));
        }
        return ExternalRefusal.None;
    }

    private async Task<ExternalSignIn> CreateAsync(ExternalIdentity identity, string? inviteToken, CancellationToken cancellationToken)
    {
        var email = identity.Email!;
        // An account made now would be refused at once for its unconfirmed email, and no confirmation mail was sent.
        if (!identity.EmailVerified && accountOptions.CurrentValue.RequireConfirmedEmail)
        {
            return ExternalSignIn.Refused(ExternalRefusal.EmailNotVerified);
        }
        var user = new AppUser
        {
            UserName = email,
            Email = email,
            EmailConfirmed = identity.EmailVerified,
            DisplayName = identity.Name ?? email.Split('@')[0],
            CreatedAt = time.GetUtcNow(),
        };
        var mode = accountOptions.CurrentValue.Registration;
        // The same discipline as AccountRegistration: "first account" and "invited" are decided on current rows
        // inside one immediate write transaction together with the inserts.
        await using var transaction = await db.Database.BeginWriteTransactionAsync(WriteScope.Registration, cancellationToken);
        var first = !await db.Users.AnyAsync(cancellationToken);
        InviteLink? link = null;
        if (!first && mode != RegistrationMode.Open)
        {
            if (mode == RegistrationMode.Closed)
            {
                return ExternalSignIn.Refused(ExternalRefusal.RegistrationClosed);
            }
            if (!string.IsNullOrEmpty(inviteToken))
            {
                var hash = AccountRegistration.HashToken(inviteToken);
                var now = time.GetUtcNow();
                link = await db.InviteLinks.SingleOrDefaultAsync(l => l.TokenHash == hash && l.UsedAt == null && l.ExpiresAt > now, cancellationToken);
                if (link is null)
                {
                    return ExternalSignIn.Refused(ExternalRefusal.InvitationNeeded);
                }
            }
            else
            {
                var normalized = userManager.NormalizeEmail(email);
                if (!await db.TeamInvitations.AnyAsync(i => i.NormalizedEmail == normalized, cancellationToken))
                {
                    return ExternalSignIn.Refused(ExternalRefusal.InvitationNeeded);
                }
                // An invitation was sent to an address; only an address the provider vouches for may claim it.
                if (!identity.EmailVerified)
                {
                    return ExternalSignIn.Refused(ExternalRefusal.UnverifiedInvitation);
                }
            }
        }

        var created = await userManager.CreateAsync(user);
        if (!created.Succeeded)
        {
            return created.Errors.Any(e => e.Code is "DuplicateUserName" or "DuplicateEmail")
                ? ExternalSignIn.Refused(ExternalRefusal.EmailTaken)
                : throw new InvalidOperationException("Could not create the account: " + string.Join("; ", created.Errors.Select(e => e.Description)));
        }
        var login = await userManager.AddLoginAsync(user, new UserLoginInfo(OidcOptions.Scheme, identity.Subject, email));
        if (!login.Succeeded)
        {
            throw new InvalidOperationException("Could not link the new account: " + string.Join("; ", login.Errors.Select(e => e.Description)));
        }
        if (link is not null)
        {
            link.UsedAt = time.GetUtcNow();
            link.UsedById = user.Id;
            await db.SaveChangesAsync(cancellationToken);
        }
        if (first)
        {
            await AccountRegistration.MakeAdminAsync(userManager, roleManager, user);
        }
        await transaction.CommitAsync(cancellationToken);
        LogCreated(user.Id, mode, first);
        var admitted = await AdmitAsync(user);
        return admitted.Succeeded ? admitted with { Created = true } : admitted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Account {UserId} created by a company sign-in (registration {Mode}, first account and so Admin: {IsAdmin})")]
    private partial void LogCreated(string userId, RegistrationMode mode, bool isAdmin);

    [LoggerMessage(Level = LogLevel.Information, Message = "Account {UserId} linked to its company login (automatically, by verified email: {Automatically})")]
    private partial void LogLinked(string userId, bool automatically);

    [LoggerMessage(Level = LogLevel.Information, Message = "Account {UserId} unlinked its company login")]
    private partial void LogUnlinked(string userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A company sign-in matched account {UserId} by email but was not linked (provider verified the email: {ProviderVerified}, confirmed here: {ConfirmedHere})")]
    private partial void LogNotLinked(string userId, bool providerVerified, bool confirmedHere);
}
