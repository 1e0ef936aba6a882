using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Auth;

namespace T2IStudio.Web.Endpoints;

/// <summary>Account endpoints that are not pages.</summary>
public static class AccountEndpoints
{
    /// <summary>Maps <c>POST /Account/Logout</c> (antiforgery-checked form post).</summary>
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/Account/Logout", LogoutAsync);
        return endpoints;
    }

    private static async Task<RedirectHttpResult> LogoutAsync(SignInManager<AppUser> signInManager, [FromForm] string? returnUrl)
    {
        await signInManager.SignOutAsync();
        var target = IdentityRedirectManager.LocalOrHome(returnUrl);
        return TypedResults.LocalRedirect("/Account/Login?status=signedout&ReturnUrl=" + Uri.EscapeDataString(target));
    }
}
