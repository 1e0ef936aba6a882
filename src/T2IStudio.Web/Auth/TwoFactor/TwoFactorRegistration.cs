using System.Security.Claims;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Auth.TwoFactor;

/// <summary>Two-factor authentication with an authenticator app (issue 19, part 2).</summary>
public static class TwoFactorRegistration
{
    /// <summary>
    /// The services two-factor sign-in and enrolment need: authenticator codes accepted once
    /// (<see cref="SingleUseAuthenticatorTokenProvider"/>), recovery codes kept as hashes
    /// (<see cref="RecoveryCodeHashingUserStore"/>), and a sign-in's method kept across the cookie's refreshes.
    /// </summary>
    public static IServiceCollection AddStudioTwoFactor(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddTransient<SingleUseAuthenticatorTokenProvider>();
        // Runs after AddDefaultTokenProviders' registration, so this provider answers for "Authenticator".
        services.Configure<IdentityOptions>(options => options.Tokens.ProviderMap[TokenOptions.DefaultAuthenticatorProvider] =
            new TokenProviderDescriptor(typeof(SingleUseAuthenticatorTokenProvider)));
        services.Replace(ServiceDescriptor.Scoped<IUserStore<AppUser>, RecoveryCodeHashingUserStore>());
        // Accounts:RequireTwoFactor inside circuits, which the enrolment middleware does not see.
        services.AddScoped<CircuitHandler, TwoFactorCircuitHandler>();
        // The security stamp check rebuilds the cookie's principal every minute and, by itself, drops how the person
        // signed in ("amr", and the company provider's name): the enrolment check needs both, so they are carried over.
        services.Configure<SecurityStampValidatorOptions>(options =>
        {
            var earlier = options.OnRefreshingPrincipal;
            options.OnRefreshingPrincipal = async context =>
            {
                if (earlier is not null)
                {
                    await earlier(context);
                }
                KeepSignInMethod(context);
            };
        });
        return services;
    }

    /// <summary>
    /// After authentication: with <c>Accounts:RequireTwoFactor=true</c>, a person signed in by password without
    /// two-factor is sent to enrol before anything else (<see cref="TwoFactorEnrolment"/>).
    /// </summary>
    public static IApplicationBuilder UseTwoFactorEnrolment(this IApplicationBuilder app) => app.Use(TwoFactorEnrolment.InvokeAsync);

    private static void KeepSignInMethod(SecurityStampRefreshingPrincipalContext context)
    {
        if (context.CurrentPrincipal is not { } current || context.NewPrincipal?.Identity is not ClaimsIdentity renewed)
        {
            return;
        }
        foreach (var type in new[] { "amr", ClaimTypes.AuthenticationMethod })
        {
            if (current.FindFirst(type) is { } claim && !renewed.HasClaim(c => c.Type == type))
            {
                renewed.AddClaim(new Claim(type, claim.Value));
            }
        }
    }
}
