using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using T2IStudio.Web.Api;

namespace T2IStudio.Web.Auth.TwoFactor;

/// <summary>
/// With <c>Accounts:RequireTwoFactor=true</c>, sends a person signed in by password who has not turned on two-factor
/// authentication to the enrolment page before anything else. It reads the sign-in cookie's claims only (no query per
/// request): <see cref="StudioClaimsPrincipalFactory.TwoFactorClaim"/>, refreshed when the person enrols, and the
/// authentication method a company sign-in records (those follow the provider's own second factor).
/// </summary>
/// <remarks>
/// Not affected: the enrolment page and its posts, signing out, the error and not-found pages, anonymous endpoints
/// (sign-in, the two-factor step, registration, static files, health), the framework's files and circuits
/// (<c>_framework</c>, <c>_content</c>, <c>_blazor</c>: a circuit started from an exempt page is held to the same
/// rule by <see cref="TwoFactorCircuitHandler"/>), and the API, which authenticates with personal access tokens, not the cookie: tokens keep working.
/// </remarks>
internal static class TwoFactorEnrolment
{
    /// <summary>The account page that enrols.</summary>
    public const string EnrolPath = "/Account/Manage/TwoFactor";

    /// <summary>Where a person who must enrol is sent (the page then says why).</summary>
    public const string RequiredRedirect = EnrolPath + "?required=1";

    /// <summary>True when <paramref name="user"/> signed in by password and has no second factor.</summary>
    public static bool LacksSecondFactor(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.Identity?.IsAuthenticated == true
            && user.FindFirstValue(ClaimTypes.NameIdentifier) is not null
            && !user.HasClaim(c => c.Type == StudioClaimsPrincipalFactory.TwoFactorClaim)
            && !user.HasClaim(ClaimTypes.AuthenticationMethod, OidcOptions.Scheme);
    }

    /// <summary>The middleware: redirects or passes on.</summary>
    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var required = context.RequestServices.GetRequiredService<IOptionsMonitor<AccountOptions>>().CurrentValue.RequireTwoFactor;
        if (!required || !LacksSecondFactor(context.User) || IsExempt(context))
        {
            return next(context);
        }
        context.Response.Redirect(RequiredRedirect);
        return Task.CompletedTask;
    }

    private static bool IsExempt(HttpContext context)
    {
        var path = context.Request.Path;
        return path.StartsWithSegments(EnrolPath, StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments("/Account/Logout", StringComparison.OrdinalIgnoreCase)
            // The error and not-found pages, re-executed for a failed request (the enrolment page's own included).
            || path.StartsWithSegments("/Error", StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments("/not-found", StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments("/_framework", StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments("/_content", StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments("/_blazor", StringComparison.OrdinalIgnoreCase)
            || ApiEndpoints.IsApiRequest(context)
            || context.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null;
    }
}
