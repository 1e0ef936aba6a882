using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using T2IStudio.Data;

namespace T2IStudio.Web.Auth.TwoFactor;

/// <summary>
/// <c>Accounts:RequireTwoFactor</c> inside a Blazor circuit, which the enrolment middleware never sees after the page
/// that started it: a password sign-in without a second factor (a circuit started from an exempt page such as
/// <c>/not-found</c>), or one whose second factor was turned off since (in another tab or browser), has its events
/// refused and the browser sent to the enrolment page. Company sign-ins follow the provider's own second factor.
/// </summary>
public sealed partial class TwoFactorCircuitHandler(
    AuthenticationStateProvider authenticationStateProvider,
    NavigationManager navigation,
    IOptionsMonitor<AccountOptions> accountOptions,
    IDbContextFactory<AppDbContext> dbFactory,
    TimeProvider time,
    ILogger<TwoFactorCircuitHandler> logger) : RefusingCircuitHandler(navigation)
{
    // How long an "enrolled" answer from the database is trusted before the next event reads it again.
    private static readonly TimeSpan RecheckAfter = TimeSpan.FromSeconds(2);

    private DateTimeOffset _enrolledUntil = DateTimeOffset.MinValue;

    /// <inheritdoc />
    protected override string RedirectUri => TwoFactorEnrolment.RequiredRedirect;

    /// <inheritdoc />
    protected override void OnRefused() => LogRefused();

    /// <inheritdoc />
    protected override async Task<bool> IsRefusedAsync()
    {
        if (!accountOptions.CurrentValue.RequireTwoFactor || IsOnEnrolmentPage())
        {
            return false;
        }
        var user = (await authenticationStateProvider.GetAuthenticationStateAsync()).User;
        if (user.Identity?.IsAuthenticated != true || user.FindFirstValue(ClaimTypes.NameIdentifier) is not { } userId
            || user.HasClaim(ClaimTypes.AuthenticationMethod, OidcOptions.Scheme))
        {
            return false;
        }
        if (TwoFactorEnrolment.LacksSecondFactor(user))
        {
            return true;
        }
        // The circuit's principal said "enrolled" when it started; the account may have turned it off since.
        var now = time.GetUtcNow();
        if (now < _enrolledUntil)
        {
            return false;
        }
        await using var db = await dbFactory.CreateDbContextAsync();
        var enabled = await db.Users.Where(u => u.Id == userId).Select(u => (bool?)u.TwoFactorEnabled).SingleOrDefaultAsync();
        if (enabled == false)
        {
            return true;
        }
        // A deleted account (null) is DisabledUserCircuitHandler's to refuse.
        _enrolledUntil = now + RecheckAfter;
        return false;
    }

    private bool IsOnEnrolmentPage() =>
        Navigation.ToBaseRelativePath(Navigation.Uri).StartsWith(TwoFactorEnrolment.EnrolPath.TrimStart('/'), StringComparison.OrdinalIgnoreCase);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a circuit event of a password sign-in without two-factor authentication while it is required; sending it to enrol.")]
    private partial void LogRefused();
}
