using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Auth.Oidc;

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

    /// <summary>
    /// Signs out here; a session that came from the company's provider is also signed out there when the provider
    /// offers an end-session endpoint (RP-initiated logout), which then sends the browser back to the sign-in page.
    /// </summary>
    private static async Task<Results<SignOutHttpResult, RedirectHttpResult>> LogoutAsync(
        HttpContext context, SignInManager<AppUser> signInManager, ProviderAddresses provider, [FromForm] string? returnUrl)
    {
        var idToken = provider.IsEnabled ? await context.GetTokenAsync(IdentityConstants.ApplicationScheme, "id_token") : null;
        await signInManager.SignOutAsync();
        var target = IdentityRedirectManager.LocalOrHome(returnUrl);
        var signedOut = "/Account/Login?status=signedout&ReturnUrl=" + Uri.EscapeDataString(target);
        if (idToken is not null && await provider.EndSessionEndpointAsync(context.RequestAborted) is not null)
        {
            context.Items[OidcRegistration.IdTokenHintItem] = idToken;
            return TypedResults.SignOut(new AuthenticationProperties { RedirectUri = signedOut }, [OidcOptions.Scheme]);
        }
        return TypedResults.LocalRedirect(signedOut);
    }
}
