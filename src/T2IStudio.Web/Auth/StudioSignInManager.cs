using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Auth;

/// <summary>
/// Identity's sign-in manager, refusing accounts an admin has disabled, with lockout honoured on every path:
/// a disabled account, or one whose email is not confirmed while confirmation is required, counts failed passwords
/// and locks like any other (and says "not allowed" only to the right password, never while locked), and an email without an account costs the same hashing and locks the same way
/// (<see cref="UnknownAccountSignIns"/>), so answers and timing do not tell which emails exist.
/// </summary>
public sealed class StudioSignInManager(
    UserManager<AppUser> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<AppUser> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<AppUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<AppUser> confirmation,
    UnknownAccountSignIns unknownAccounts)
    : SignInManager<AppUser>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    /// <inheritdoc />
    public override async Task<bool> CanSignInAsync(AppUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return !user.IsDisabled && await base.CanSignInAsync(user);
    }

    /// <inheritdoc />
    public override async Task<SignInResult> PasswordSignInAsync(string userName, string password, bool isPersistent, bool lockoutOnFailure)
    {
        ArgumentNullException.ThrowIfNull(userName);
        var user = await UserManager.FindByNameAsync(userName);
        if (user is not null)
        {
            return await PasswordSignInAsync(user, password, isPersistent, lockoutOnFailure);
        }
        // No such account: the same answers, after the same work, as a real one.
        var key = UserManager.NormalizeName(userName);
        if (unknownAccounts.IsLockedOut(key))
        {
            return SignInResult.LockedOut;
        }
        unknownAccounts.VerifyDummy(UserManager.PasswordHasher, password);
        return lockoutOnFailure && unknownAccounts.RecordFailure(key) ? SignInResult.LockedOut : SignInResult.Failed;
    }

    /// <inheritdoc />
    public override async Task<SignInResult> CheckPasswordSignInAsync(AppUser user, string password, bool lockoutOnFailure)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!await UserManager.HasPasswordAsync(user))
        {
            // An account made by company sign-in has no password to guess: wrong ones must not lock the account
            // (which would shut its company sign-in too). It is answered like an email without an account: the same
            // hashing work and the same in-memory count (which locks only this password path, not the account).
            var key = user.NormalizedUserName ?? UserManager.NormalizeName(user.UserName ?? "");
            if (unknownAccounts.IsLockedOut(key))
            {
                return SignInResult.LockedOut;
            }
            unknownAccounts.VerifyDummy(UserManager.PasswordHasher, password);
            return lockoutOnFailure && unknownAccounts.RecordFailure(key) ? SignInResult.LockedOut : SignInResult.Failed;
        }
        if (await CanSignInAsync(user))
        {
            return await base.CheckPasswordSignInAsync(user, password, lockoutOnFailure);
        }
        // Identity answers "not allowed" for an account that may not sign in (disabled, or its email unconfirmed while
        // Accounts:RequireConfirmedEmail is on) before it looks at lockout or the password, which would tell anyone
        // that the email has an account and let guesses go uncounted. Here that path is a normal check whose success
        // is "not allowed", so guesses count, lockout holds, and only the right password learns why.
        if (await UserManager.IsLockedOutAsync(user))
        {
            return SignInResult.LockedOut;
        }
        if (await UserManager.CheckPasswordAsync(user, password))
        {
            return SignInResult.NotAllowed;
        }
        if (lockoutOnFailure && UserManager.SupportsUserLockout)
        {
            await UserManager.AccessFailedAsync(user);
            if (await UserManager.IsLockedOutAsync(user))
            {
                return SignInResult.LockedOut;
            }
        }
        return SignInResult.Failed;
    }

    /// <summary>
    /// Identity's recovery-code sign-in, with lockout: Identity's own neither refuses a locked-out account here nor
    /// counts a wrong code ("codes are expected to be random"), which would leave a way around the lockout that
    /// covers passwords and authenticator codes. Here a locked or disabled account is refused before the code is
    /// looked at (so a right code is not used up), and a wrong code counts like a wrong password.
    /// </summary>
    public override async Task<SignInResult> TwoFactorRecoveryCodeSignInAsync(string recoveryCode)
    {
        var user = await GetTwoFactorAuthenticationUserAsync();
        if (user is null)
        {
            return SignInResult.Failed;
        }
        if (await UserManager.IsLockedOutAsync(user))
        {
            return SignInResult.LockedOut;
        }
        if (!await CanSignInAsync(user))
        {
            return SignInResult.NotAllowed;
        }
        var result = await base.TwoFactorRecoveryCodeSignInAsync(recoveryCode);
        if (result.Succeeded || !UserManager.SupportsUserLockout)
        {
            return result; // a success has reset the failure count
        }
        await UserManager.AccessFailedAsync(user);
        return await UserManager.IsLockedOutAsync(user) ? SignInResult.LockedOut : SignInResult.Failed;
    }
}
