using System.Globalization;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Auth.TwoFactor;

/// <summary>
/// Identity's authenticator-app provider (the same codes, the same ±2 steps of clock tolerance), except that a code
/// is accepted once: the last accepted time step is kept per person, and a code from that step or an earlier one is
/// refused. Identity's own provider accepts a code again for as long as it is valid (about two minutes), so a code
/// seen over a shoulder or in a proxy log could be used a second time.
/// </summary>
/// <remarks>
/// The step is saved with the person's row (an update checked by Identity's concurrency stamp), so two sign-ins
/// racing with one code cannot both save it: the loser's update fails and its code is refused.
/// </remarks>
public sealed class SingleUseAuthenticatorTokenProvider(TimeProvider time) : IUserTwoFactorTokenProvider<AppUser>
{
    /// <summary>The token row's login provider: a name of this app's, apart from Identity's <c>[AspNetUserStore]</c>.</summary>
    public const string TokenProvider = "[T2IStudio]";

    /// <summary>The token row's name: the last accepted time step, in invariant digits.</summary>
    public const string LastStepToken = "AuthenticatorLastStep";

    // Identity's tolerance: codes from 60 seconds before to 60 seconds after now (a phone's clock is seldom exact).
    private const int ToleranceSteps = 2;

    /// <inheritdoc />
    public async Task<bool> CanGenerateTwoFactorTokenAsync(UserManager<AppUser> manager, AppUser user)
    {
        ArgumentNullException.ThrowIfNull(manager);
        return !string.IsNullOrWhiteSpace(await manager.GetAuthenticatorKeyAsync(user));
    }

    /// <summary>Nothing to send: the code comes from the person's authenticator app.</summary>
    public Task<string> GenerateAsync(string purpose, UserManager<AppUser> manager, AppUser user) => Task.FromResult(string.Empty);

    /// <inheritdoc />
    public async Task<bool> ValidateAsync(string purpose, string token, UserManager<AppUser> manager, AppUser user)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(token);
        if (token.Length != 6 || !int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            || await manager.GetAuthenticatorKeyAsync(user) is not { Length: > 0 } key || Totp.DecodeBase32(key) is not { } keyBytes)
        {
            return false;
        }
        var now = Totp.StepAt(time.GetUtcNow());
        long? matched = null;
        for (var step = now - ToleranceSteps; step <= now + ToleranceSteps; step++)
        {
            // Every step is computed (no early exit), so the time taken does not tell which one matched.
            if (Totp.Code(keyBytes, step) == code)
            {
                matched ??= step;
            }
        }
        if (matched is not { } accepted)
        {
            return false;
        }
        var last = await manager.GetAuthenticationTokenAsync(user, TokenProvider, LastStepToken);
        if (long.TryParse(last, NumberStyles.Integer, CultureInfo.InvariantCulture, out var lastStep) && accepted <= lastStep)
        {
            return false;
        }
        try
        {
            var saved = await manager.SetAuthenticationTokenAsync(user, TokenProvider, LastStepToken, accepted.ToString(CultureInfo.InvariantCulture));
            return saved.Succeeded;
        }
        catch (DbUpdateException)
        {
            // Two first uses at once both inserted the row: the other one won, so this code is refused (not a 500).
            return false;
        }
    }

    /// <summary>Forgets the last accepted step (with the key it belonged to).</summary>
    public static Task<IdentityResult> ForgetAsync(UserManager<AppUser> manager, AppUser user)
    {
        ArgumentNullException.ThrowIfNull(manager);
        return manager.RemoveAuthenticationTokenAsync(user, TokenProvider, LastStepToken);
    }
}
