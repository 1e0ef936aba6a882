using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using T2IStudio.Web.Endpoints;

namespace T2IStudio.Web.Auth.Oidc;

/// <summary>Sign-in with the company's OpenID Connect provider (issue 19, part 1).</summary>
public static partial class OidcRegistration
{
    /// <summary>Where the provider sends the browser back with the authorization code.</summary>
    public const string CallbackPath = "/signin-oidc";

    /// <summary>Where the provider sends the browser back after signing out there.</summary>
    public const string SignedOutCallbackPath = "/signout-callback-oidc";

    /// <summary>The <see cref="HttpContext.Items"/> key under which sign-out passes the session's id token to the provider.</summary>
    internal const string IdTokenHintItem = "T2IStudio.OidcIdTokenHint";

    /// <summary>
    /// Binds <see cref="OidcOptions"/> and, when the provider is configured, adds the <c>oidc</c> scheme: authorization
    /// code with PKCE, the result kept in Identity's external cookie until the callback decides which account it is.
    /// </summary>
    public static IServiceCollection AddStudioOidc(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<OidcOptions>()
            .BindConfiguration(OidcOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddScoped<ExternalAccounts>();
        // Identity's security stamp check rebuilds the principal every minute; keep how the person signed in, so a
        // company session stays one (two-factor enrolment and sign-out read it).
        services.Configure<SecurityStampValidatorOptions>(options =>
        {
            var earlier = options.OnRefreshingPrincipal;
            options.OnRefreshingPrincipal = async context =>
            {
                if (earlier is not null)
                {
                    await earlier(context);
                }
                if (context.CurrentPrincipal?.FindFirst(ClaimTypes.AuthenticationMethod) is { } method
                    && context.NewPrincipal?.Identity is ClaimsIdentity identity && !identity.HasClaim(c => c.Type == ClaimTypes.AuthenticationMethod))
                {
                    identity.AddClaim(new Claim(ClaimTypes.AuthenticationMethod, method.Value));
                }
            };
        });

        // The scheme's settings are read once, at start (a changed provider needs a restart, like any scheme).
        var settings = configuration.GetSection(OidcOptions.Section).Get<OidcOptions>() ?? new OidcOptions();
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<ProviderAddresses>(sp, settings));
        if (!settings.IsEnabled)
        {
            return services;
        }
        // Reads the discovery document once in the background at start, so the provider's end-session origin is in
        // form-action before the first sign-out (a session may outlive a restart and never pass a challenge).
        services.AddHostedService<ProviderDiscoveryAtStart>();
        services.AddAuthentication().AddOpenIdConnect(OidcOptions.Scheme, settings.DisplayName, options => Configure(options, settings));
        return services;
    }

    private static void Configure(OpenIdConnectOptions options, OidcOptions settings)
    {
        options.Authority = settings.Authority;
        options.ClientId = settings.ClientId;
        options.ClientSecret = settings.ClientSecret;
        options.RequireHttpsMetadata = settings.RequireHttpsMetadata;
        options.ResponseType = OpenIdConnectResponseType.Code;
        // The code comes back in the query of a top-level GET redirect (not the handler's default form_post, a
        // cross-site POST), so the correlation and nonce cookies can stay SameSite=Lax.
        options.ResponseMode = OpenIdConnectResponseMode.Query;
        options.UsePkce = true;
        options.Scope.Clear();
        options.Scope.Add("openid");
        options.Scope.Add("profile");
        options.Scope.Add("email");
        options.CallbackPath = CallbackPath;
        options.SignedOutCallbackPath = SignedOutCallbackPath;
        // No front-channel logout: the handler's /signout-oidc signs the session out on a plain GET whenever the
        // session has no sid/iss to compare (ours keep none), so any site could sign people out with a link or image.
        options.RemoteSignOutPath = PathString.Empty;
        options.SignedOutRedirectUri = "/Account/Login?status=signedout";
        // The provider's result waits in Identity's external cookie; the callback endpoint picks the account.
        options.SignInScheme = IdentityConstants.ExternalScheme;
        options.SignOutScheme = IdentityConstants.ApplicationScheme;
        // The id token is kept for signing out at the provider (id_token_hint).
        options.SaveTokens = true;
        // Claims keep the provider's names (email, name, email_verified), which is what EmailClaim and NameClaim name.
        options.MapInboundClaims = false;
        options.TokenValidationParameters.NameClaimType = settings.NameClaim;
        // Conforming providers put profile and email claims in the userinfo response of the code flow, not the id token.
        options.GetClaimsFromUserInfoEndpoint = true;
        options.ClaimActions.MapUniqueJsonKey(settings.EmailClaim, settings.EmailClaim);
        options.ClaimActions.MapUniqueJsonKey(settings.NameClaim, settings.NameClaim);
        options.ClaimActions.MapUniqueJsonKey(ExternalIdentity.EmailVerifiedClaim, ExternalIdentity.EmailVerifiedClaim);
        // Lax (see ResponseMode); Secure follows the request like the app's own cookies (behind a TLS proxy,
        // Network:KnownProxies makes the request https).
        options.CorrelationCookie.SameSite = SameSiteMode.Lax;
        options.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        options.NonceCookie.SameSite = SameSiteMode.Lax;
        options.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        options.Events = new OpenIdConnectEvents
        {
            OnRedirectToIdentityProvider = async context =>
            {
                var addresses = context.HttpContext.RequestServices.GetRequiredService<ProviderAddresses>();
                addresses.Learn(context.ProtocolMessage.IssuerAddress);
                // The discovery document was just read (and is cached): learn its end-session origin now, so the first
                // "Sign out" form may redirect there (in case the start-up read could not reach the provider).
                await addresses.LearnDiscoveryAsync(context.HttpContext.RequestAborted);
            },
            OnRedirectToIdentityProviderForSignOut = context =>
            {
                if (context.HttpContext.Items[IdTokenHintItem] is string idToken)
                {
                    context.ProtocolMessage.IdTokenHint = idToken;
                }
                return Task.CompletedTask;
            },
            // Refused consent, and every failed round trip (a missing or altered state, an expired correlation cookie,
            // a provider error): back to the sign-in page with a sentence, never an error page.
            OnAccessDenied = context =>
            {
                context.Response.Redirect(FailureAddress(context.Properties, ExternalRefusal.Denied));
                context.HandleResponse();
                return Task.CompletedTask;
            },
            OnRemoteFailure = context =>
            {
                LogCallbackFailed(context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OidcRegistration)), context.Failure);
                context.Response.Redirect(FailureAddress(context.Properties, ExternalRefusal.Failed));
                context.HandleResponse();
                return Task.CompletedTask;
            },
        };
    }

    // A link started on the account page goes back there; a sign-in (or a state nobody can read) to the sign-in page.
    private static string FailureAddress(AuthenticationProperties? properties, ExternalRefusal refusal) =>
        properties?.Items.ContainsKey(ExternalLoginEndpoints.LinkUserItem) == true
            ? ExternalLoginEndpoints.ManageWith(ExternalRefusals.Code(refusal))
            : ExternalLoginEndpoints.LoginWith(refusal);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A company sign-in failed at the callback")]
    private static partial void LogCallbackFailed(ILogger logger, Exception? exception);
}
