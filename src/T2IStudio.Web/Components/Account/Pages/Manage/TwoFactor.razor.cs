using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Auth.TwoFactor;

namespace T2IStudio.Web.Components.Account.Pages.Manage;

/// <summary>
/// The account page "Two-factor authentication": enrol an authenticator app (QR code and key, then one code to prove
/// it works), see and reset the recovery codes, or turn it off. Recovery codes appear only in the response to the post
/// that made them: they are stored as hashes, so nothing can show them again.
/// </summary>
public partial class TwoFactor
{
    private const int RecoveryCodeCount = 10;

    private AppUser? _user;
    private bool _enabled;
    private bool _required;
    private bool _requiredBySettings;
    private int _codesLeft;
    private string? _key;
    private string? _authenticatorUri;
    private IReadOnlyList<string>? _recoveryCodes;
    private string? _error;
    private string? _done;

    [CascadingParameter] private HttpContext HttpContext { get; set; } = default!;

    [SupplyParameterFromForm(FormName = "verify-authenticator")] private VerifyInput Input { get; set; } = default!;

    /// <inheritdoc />
    protected override async Task OnInitializedAsync()
    {
        Input ??= new();
        // Keys and recovery codes must not linger in a cache or the back button.
        HttpContext.Response.Headers.CacheControl = "no-store";
        _user = await UserManager.GetUserAsync(HttpContext.User);
        if (_user is null)
        {
            _error = "Your account could not be found; sign in again.";
            return;
        }
        _requiredBySettings = AccountSettings.CurrentValue.RequireTwoFactor;
        // A company sign-in follows the provider's own second factor (see TwoFactorEnrolment).
        _required = _requiredBySettings && !HttpContext.User.HasClaim(ClaimTypes.AuthenticationMethod, OidcOptions.Scheme);
        await LoadAsync(_user);
    }

    private async Task LoadAsync(AppUser user)
    {
        _enabled = await UserManager.GetTwoFactorEnabledAsync(user);
        if (_enabled)
        {
            _codesLeft = await UserManager.CountRecoveryCodesAsync(user);
            _key = null;
            return;
        }
        _key = await UserManager.GetAuthenticatorKeyAsync(user);
        if (string.IsNullOrEmpty(_key))
        {
            // A key waiting to be confirmed: stored without UserManager.ResetAuthenticatorKeyAsync, whose new security
            // stamp would sign this person's other browsers out merely for opening the page.
            var keys = (IUserAuthenticatorKeyStore<AppUser>)UserStore;
            await keys.SetAuthenticatorKeyAsync(user, UserManager.GenerateNewAuthenticatorKey(), HttpContext.RequestAborted);
            if (!(await UserManager.UpdateAsync(user)).Succeeded)
            {
                // Another window stored a key at the same moment (the row's concurrency stamp changed): show none
                // rather than one that was not saved.
                _key = null;
                _error = "Your account changed in another window: open this page again.";
                return;
            }
            _key = await UserManager.GetAuthenticatorKeyAsync(user);
        }
        _authenticatorUri = AuthenticatorSetup.AuthenticatorUri(user.Email ?? user.UserName ?? user.Id, _key!);
    }

    private async Task VerifyAsync()
    {
        if (_user is null || _enabled)
        {
            return;
        }
        var code = RecoveryCodeHashingUserStore.Normalize(Input.Code);
        if (!await UserManager.VerifyTwoFactorTokenAsync(_user, UserManager.Options.Tokens.AuthenticatorTokenProvider, code))
        {
            _error = "That code is not right. Check that your phone's clock is set automatically, and enter the code the app shows now.";
            return;
        }
        await UserManager.SetTwoFactorEnabledAsync(_user, true);
        _recoveryCodes = [.. await UserManager.GenerateNewTwoFactorRecoveryCodesAsync(_user, RecoveryCodeCount) ?? []];
        // The new security stamp signs other browsers out; this one gets a fresh cookie, which now says "2FA on".
        await SignInManager.RefreshSignInAsync(_user);
        LogEnabled(Logger);
        _enabled = true;
        _done = "Two-factor authentication is on. Other browsers are signed out within a minute.";
        Input = new();
    }

    private async Task ResetRecoveryCodesAsync()
    {
        if (_user is null || !_enabled)
        {
            return;
        }
        _recoveryCodes = [.. await UserManager.GenerateNewTwoFactorRecoveryCodesAsync(_user, RecoveryCodeCount) ?? []];
        LogRecoveryCodesReset(Logger);
        _done = "New recovery codes: the old ones no longer work.";
    }

    private async Task DisableAsync()
    {
        if (_user is null || !_enabled)
        {
            return;
        }
        await UserManager.SetTwoFactorEnabledAsync(_user, false);
        // Forget the key and the codes: turning it on again starts with a new key.
        await UserManager.RemoveAuthenticationTokenAsync(_user, "[AspNetUserStore]", "AuthenticatorKey");
        await UserManager.RemoveAuthenticationTokenAsync(_user, "[AspNetUserStore]", "RecoveryCodes");
        await SingleUseAuthenticatorTokenProvider.ForgetAsync(UserManager, _user);
        await SignInManager.RefreshSignInAsync(_user);
        LogDisabled(Logger);
        _done = "Two-factor authentication is off.";
        await LoadAsync(_user);
    }

    // Static: the logger is an @inject property, which this generator cannot see in the Razor-generated half.
    [LoggerMessage(Level = LogLevel.Information, Message = "A user turned on two-factor authentication.")]
    private static partial void LogEnabled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "A user turned off two-factor authentication.")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "A user made new two-factor recovery codes.")]
    private static partial void LogRecoveryCodesReset(ILogger logger);

    private sealed class VerifyInput
    {
        [Required(ErrorMessage = "Enter the six-digit code from your authenticator app.")]
        [StringLength(12, ErrorMessage = "The code has six digits.")]
        public string Code { get; set; } = "";
    }
}
