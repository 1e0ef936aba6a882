using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Auth;

/// <summary>
/// Adds the display name to the sign-in cookie so the shell can greet the person without a query, and whether the
/// person uses two-factor authentication so the enrolment check (<c>Accounts:RequireTwoFactor</c>) needs none either.
/// </summary>
public sealed class StudioClaimsPrincipalFactory(UserManager<AppUser> userManager, RoleManager<IdentityRole> roleManager, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<AppUser, IdentityRole>(userManager, roleManager, options)
{
    /// <summary>The claim that carries <see cref="AppUser.DisplayName"/>.</summary>
    public const string DisplayNameClaim = "t2i:display_name";

    /// <summary>Present (value "on") when the person has two-factor authentication turned on.</summary>
    public const string TwoFactorClaim = "t2i:2fa";

    /// <inheritdoc />
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(AppUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(DisplayNameClaim, user.DisplayName));
        if (user.TwoFactorEnabled)
        {
            identity.AddClaim(new Claim(TwoFactorClaim, "on"));
        }
        return identity;
    }

    /// <summary>The display name in a principal, falling back to its user name.</summary>
    public static string DisplayNameOf(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return principal.FindFirstValue(DisplayNameClaim) is { Length: > 0 } name ? name : principal.Identity?.Name ?? "Account";
    }
}
