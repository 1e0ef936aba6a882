using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Auth.Oidc;

namespace T2IStudio.Web.Endpoints;

/// <summary>
/// The company sign-in's endpoints: start a sign-in (anonymous), its callback (anonymous: it decides which account),
/// and, for a signed-in person, link and unlink the company login. Each start is an antiforgery-checked form post
/// that challenges the <c>oidc</c> scheme; the provider answers at <c>/signin-oidc</c> (the handler, before
/// authorization), which leaves the result in Identity's external cookie and redirects to the matching callback here.
/// </summary>
public static class ExternalLoginEndpoints
{
    /// <summary>The sign-in start (POST, form field <c>ReturnUrl</c> and optional <c>Invite</c>).</summary>
    public const string LoginPath = "/Account/ExternalLogin";

    /// <summary>Where a sign-in continues after the provider.</summary>
    public const string CallbackPath = "/Account/ExternalLogin/Callback";

    /// <summary>The link start (POST, signed in).</summary>
    public const string LinkPath = "/Account/ExternalLogin/Link";

    /// <summary>Where a link continues after the provider.</summary>
    public const string LinkCallbackPath = "/Account/ExternalLogin/LinkCallback";

    /// <summary>The unlink action (POST, signed in).</summary>
    public const string UnlinkPath = "/Account/ExternalLogin/Unlink";

    /// <summary>The account page's query parameter that carries a link or unlink outcome.</summary>
    public const string ManageQuery = "external";

    /// <summary>The <see cref="ManageQuery"/> value after a successful link.</summary>
    public const string LinkedCode = "linked";

    /// <summary>The <see cref="ManageQuery"/> value after a successful unlink.</summary>
    public const string UnlinkedCode = "unlinked";

    // Carried through the provider inside the protected state, so nobody can change them on the way.
    private const string ReturnUrlItem = "t2i.returnUrl";
    private const string InviteItem = "t2i.invite";
    internal const string LinkUserItem = "t2i.linkUser";

    /// <summary>Maps the company sign-in's endpoints.</summary>
    public static IEndpointRouteBuilder MapExternalLoginEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(LoginPath, StartSignIn).AllowAnonymous();
        endpoints.MapGet(CallbackPath, SignInCallbackAsync).AllowAnonymous();
        endpoints.MapPost(LinkPath, StartLink);
        endpoints.MapGet(LinkCallbackPath, LinkCallbackAsync);
        endpoints.MapPost(UnlinkPath, UnlinkAsync);
        return endpoints;
    }

    /// <summary>The sign-in page's address that shows <paramref name="refusal"/>'s message.</summary>
    public static string LoginWith(ExternalRefusal refusal, string? returnUrl = null)
    {
        var target = IdentityRedirectManager.LocalOrHome(returnUrl);
        return $"/Account/Login?status={ExternalRefusals.StatusPrefix}{ExternalRefusals.Code(refusal)}"
            + (target == "/" ? "" : "&ReturnUrl=" + Uri.EscapeDataString(target));
    }

    /// <summary>The account page's address that shows a link or unlink outcome.</summary>
    public static string ManageWith(string code) => $"/Account/Manage?{ManageQuery}={Uri.EscapeDataString(code)}";

    private static Results<ChallengeHttpResult, RedirectHttpResult> StartSignIn(
        ProviderAddresses provider, [FromForm(Name = "ReturnUrl")] string? returnUrl, [FromForm(Name = "Invite")] string? invite)
    {
        if (!provider.IsEnabled)
        {
            return TypedResults.LocalRedirect(LoginWith(ExternalRefusal.NotConfigured));
        }
        var properties = new AuthenticationProperties { RedirectUri = CallbackPath };
        properties.Items[ReturnUrlItem] = IdentityRedirectManager.LocalOrHome(returnUrl);
        if (!string.IsNullOrWhiteSpace(invite))
        {
            properties.Items[InviteItem] = invite.Trim();
        }
        return TypedResults.Challenge(properties, [OidcOptions.Scheme]);
    }

    private static async Task<RedirectHttpResult> SignInCallbackAsync(
        HttpContext context, ExternalAccounts accounts, SignInManager<AppUser> signInManager, IOptionsMonitor<OidcOptions> options)
    {
        var external = await context.AuthenticateAsync(IdentityConstants.ExternalScheme);
        await context.SignOutAsync(IdentityConstants.ExternalScheme);
        if (!external.Succeeded || external.Properties.Items.ContainsKey(LinkUserItem)
            || ExternalIdentity.From(external.Principal, options.CurrentValue) is not { } identity)
        {
            return TypedResults.LocalRedirect(LoginWith(ExternalRefusal.Failed));
        }
        var returnUrl = IdentityRedirectManager.LocalOrHome(ItemOf(external.Properties, ReturnUrlItem));
        var outcome = await accounts.SignInAsync(identity, ItemOf(external.Properties, InviteItem), context.RequestAborted);
        if (!outcome.Succeeded)
        {
            return TypedResults.LocalRedirect(LoginWith(outcome.Refusal, returnUrl));
        }
        // The session remembers it came from the provider (the authentication-method claim, as Identity's own
        // external sign-in sets it) and keeps the id token for signing out there too. The local second factor is
        // bypassed on purpose: the provider authenticated the person, and its own MFA policy governs company
        // sign-ins (a studio that wants a second factor for them sets it at the provider).
        var properties = new AuthenticationProperties();
        if (external.Properties.GetTokenValue("id_token") is { } idToken)
        {
            properties.StoreTokens([new AuthenticationToken { Name = "id_token", Value = idToken }]);
        }
        await signInManager.SignInWithClaimsAsync(outcome.User!, properties, [new Claim(ClaimTypes.AuthenticationMethod, OidcOptions.Scheme)]);
        return TypedResults.LocalRedirect(returnUrl);
    }

    private static Results<ChallengeHttpResult, RedirectHttpResult> StartLink(
        HttpContext context, ProviderAddresses provider, UserManager<AppUser> userManager, IFormCollection form)
    {
        _ = form; // Bound so the antiforgery token is checked.
        if (!provider.IsEnabled)
        {
            return TypedResults.LocalRedirect(ManageWith(ExternalRefusals.Code(ExternalRefusal.NotConfigured)));
        }
        var properties = new AuthenticationProperties { RedirectUri = LinkCallbackPath };
        properties.Items[LinkUserItem] = userManager.GetUserId(context.User);
        return TypedResults.Challenge(properties, [OidcOptions.Scheme]);
    }

    private static async Task<RedirectHttpResult> LinkCallbackAsync(
        HttpContext context, ExternalAccounts accounts, UserManager<AppUser> userManager, SignInManager<AppUser> signInManager, IOptionsMonitor<OidcOptions> options)
    {
        var external = await context.AuthenticateAsync(IdentityConstants.ExternalScheme);
        await context.SignOutAsync(IdentityConstants.ExternalScheme);
        var user = await userManager.GetUserAsync(context.User);
        if (user is null)
        {
            return TypedResults.LocalRedirect("/Account/Login");
        }
        if (!external.Succeeded || ExternalIdentity.From(external.Principal, options.CurrentValue) is not { } identity)
        {
            return TypedResults.LocalRedirect(ManageWith(ExternalRefusals.Code(ExternalRefusal.Failed)));
        }
        // The link goes to the account that started it, and only if that is still who is signed in.
        if (ItemOf(external.Properties, LinkUserItem) != user.Id)
        {
            return TypedResults.LocalRedirect(ManageWith(ExternalRefusals.Code(ExternalRefusal.LinkMismatch)));
        }
        var refusal = await accounts.LinkAsync(user, identity);
        if (refusal != ExternalRefusal.None)
        {
            return TypedResults.LocalRedirect(ManageWith(ExternalRefusals.Code(refusal)));
        }
        // Linking changes the security stamp (other browsers re-check); this browser stays signed in.
        await signInManager.RefreshSignInAsync(user);
        return TypedResults.LocalRedirect(ManageWith(LinkedCode));
    }

    private static async Task<RedirectHttpResult> UnlinkAsync(
        HttpContext context, ExternalAccounts accounts, UserManager<AppUser> userManager, SignInManager<AppUser> signInManager, IFormCollection form)
    {
        _ = form; // Bound so the antiforgery token is checked.
        var user = await userManager.GetUserAsync(context.User);
        if (user is null)
        {
            return TypedResults.LocalRedirect("/Account/Login");
        }
        var refusal = await accounts.UnlinkAsync(user);
        if (refusal != ExternalRefusal.None)
        {
            return TypedResults.LocalRedirect(ManageWith(ExternalRefusals.Code(refusal)));
        }
        await signInManager.RefreshSignInAsync(user);
        return TypedResults.LocalRedirect(ManageWith(UnlinkedCode));
    }

    private static string? ItemOf(AuthenticationProperties? properties, string key) =>
        properties is not null && properties.Items.TryGetValue(key, out var value) ? value : null;
}
