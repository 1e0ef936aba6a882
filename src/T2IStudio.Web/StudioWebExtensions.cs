using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using MudBlazor;
using MudBlazor.Services;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Api;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Auth.Oidc;
using T2IStudio.Web.Auth.TwoFactor;
using T2IStudio.Web.Cluster;
using T2IStudio.Web.Comments;
using T2IStudio.Web.Components;
using T2IStudio.Web.Email;
using T2IStudio.Web.Endpoints;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Preferences;
using T2IStudio.Web.Prompts;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Telemetry;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web;

/// <summary>Registration and pipeline of the web host.</summary>
public static class StudioWebExtensions
{
    /// <summary>Registers Blazor Server, MudBlazor, Identity, authorization and the web app's services.</summary>
    public static WebApplicationBuilder AddStudioWeb(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices(config =>
        {
            config.SnackbarConfiguration.PositionClass = Defaults.Classes.Position.BottomRight;
            config.SnackbarConfiguration.PreventDuplicates = true;
            config.SnackbarConfiguration.VisibleStateDuration = 6000;
        });

        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, StudioAuthenticationStateProvider>();
        services.AddScoped<IdentityRedirectManager>();
        services.AddScoped<CircuitHandler, DisabledUserCircuitHandler>();

        services.AddAuthentication(options =>
            {
                options.DefaultScheme = IdentityConstants.ApplicationScheme;
                options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddIdentityCookies();
        services.ConfigureApplicationCookie(options =>
        {
            options.LoginPath = "/Account/Login";
            options.AccessDeniedPath = "/Account/AccessDenied";
            options.Cookie.Name = "T2IStudio.Auth";
            options.Cookie.SameSite = SameSiteMode.Lax;
            // Secure whenever the request is HTTPS, including behind a trusted TLS proxy (Network:KnownProxies).
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.SlidingExpiration = true;
            options.ExpireTimeSpan = TimeSpan.FromDays(14);
            options.Events = new CookieAuthenticationEvents { OnValidatePrincipal = UserAccessGate.ValidatePrincipalAsync };
        });

        services.AddIdentityCore<AppUser>(options =>
            {
                options.SignIn.RequireConfirmedAccount = false;
                options.User.RequireUniqueEmail = true;
                options.Password.RequiredLength = 8;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<AppDbContext>()
            .AddSignInManager<StudioSignInManager>()
            .AddClaimsPrincipalFactory<StudioClaimsPrincipalFactory>()
            .AddDefaultTokenProviders();
        // PBKDF2-HMAC-SHA512 at OWASP's recommended work factor (Identity's default is 100,000).
        services.Configure<PasswordHasherOptions>(options => options.IterationCount = 210_000);
        // The security stamp changes when an admin disables an account or a password changes.
        services.Configure<SecurityStampValidatorOptions>(options => options.ValidationInterval = TimeSpan.FromMinutes(1));

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(StudioPolicies.Admin, policy => policy.RequireRole(AppDbContext.AdminRole));

        DataProtectionKeyStore.ProtectKeysWhenConfigured(services.AddDataProtection().SetApplicationName("T2IStudio"), builder.Configuration, builder.Environment.ContentRootPath);
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>, DataProtectionKeyStore>();

        services.AddAntiforgery(options => options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);
        services.AddOptions<NetworkOptions>()
            .BindConfiguration(NetworkOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IConfigureOptions<ForwardedHeadersOptions>, ForwardedHeadersSetup>();
        services.AddHsts(options => options.MaxAge = TimeSpan.FromDays(365));

        services.AddSingleton<IAuthorizationHandler, ResourceAccessHandler>();
        services.AddScoped<ResourceAccess>();
        services.AddSingleton<GalleryAccess>();
        services.AddSingleton<IAuthorizationHandler, GalleryAuthorizationHandler>();
        services.AddSingleton<EventAudience>();

        services.AddOptions<QueueOptions>()
            .BindConfiguration(QueueOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<JobLifecycle>();
        services.AddSingleton<T2IStudio.Web.Telemetry.StudioMetrics>();
        services.AddOptions<WorkersOptions>()
            .BindConfiguration(WorkersOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<WorkerRegistry>();
        ClusterRegistration.AddCluster(services);
        services.AddSingleton<StudioNotifier>();
        services.AddSingleton<GalleryPresence>();
        services.AddSingleton<ImageStore>();
        services.AddOptions<StorageQuotaOptions>()
            .BindConfiguration(StorageQuotaOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddScoped<StorageQuota>();
        // Recovery before the worker and before the server (which the host starts after every hosted service added here).
        services.AddSingleton<QueueRecovery>();
        services.AddHostedService(sp => sp.GetRequiredService<QueueRecovery>());
        services.AddHostedService<GenerationWorker>();
        services.AddHostedService<LeaseSweeper>();
        services.AddSingleton<StandingsPublisher>();
        services.AddHostedService(sp => sp.GetRequiredService<StandingsPublisher>());
        services.AddScoped<GenerationService>();
        services.AddScoped<PromptHistory>();
        services.AddScoped<ImageLibrary>();
        services.AddSingleton<ImageUploads>();
        services.AddScoped<TeamService>();
        // Server settings admins change in the app, and per-team models and budgets (the queue applies them).
        services.AddSingleton<Settings.StudioSettings>();
        services.AddSingleton<TeamLimits>();
        services.AddScoped<GalleryService>();
        services.AddScoped<ReviewService>();
        services.AddScoped<ApprovedExport>();
        services.AddSingleton<ApprovedExportGate>();
        services.AddOptions<GalleryOptions>()
            .BindConfiguration(GalleryOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddScoped<CommentService>();
        services.AddScoped<Styles.StyleLibrary>();
        // Team workflow (issue 17): the activity feed and people's notifications.
        services.AddSingleton<TeamActivityLog>();
        services.AddScoped<TeamActivityFeed>();
        services.AddSingleton<Notifications.NotificationService>();

        services.AddSingleton<UserAccessGate>();
        services.AddScoped<AccountAdministration>();
        // Accounts: who may register, invitations, and the account forms' rate limits.
        services.AddOptions<AccountOptions>()
            .BindConfiguration(AccountOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<TeamOptions>()
            .BindConfiguration(TeamOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddScoped<AccountRegistration>();
        services.AddSingleton<UnknownAccountSignIns>();
        services.AddStudioRateLimits();
        // The public API (issue 15): personal access tokens, problem details, the OpenAPI document.
        services.AddApiTokens();
        services.AddProblemDetails();
        // Binding failures throw, so the API can answer them as problems naming the field (ApiBadRequests).
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddExceptionHandler<ApiBadRequests>();
        services.AddApiDocuments();
        services.AddScoped<UserPreferences>();
        services.AddStudioHealthChecks();

        // Remote workers (issue 13): the worker-key scheme, /hubs/workers and the Admin page's worker keys.
        services.AddRemoteWorkers();

        // Company accounts (issue 19): the company's identity provider, two-factor authentication, and email.
        services.AddStudioOidc(builder.Configuration);
        services.AddStudioTwoFactor();
        services.AddStudioEmail();

        // Metrics (issue 20): OpenTelemetry, the admin-only Prometheus endpoint (Telemetry:Prometheus), the circuit count.
        builder.AddStudioTelemetry();
        return builder;
    }

    /// <summary>The middleware pipeline: errors, security headers, static files, auth, antiforgery.</summary>
    public static WebApplication UseStudioPipeline(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // First: the scheme and client address of a trusted proxy (Network:KnownProxies) are what everything after sees.
        app.UseForwardedHeaders();
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }
        // The API answers errors as problem details (RFC 9457); pages answer with the app's error and not-found pages.
        app.UseWhen(ApiEndpoints.IsApiRequest, api =>
        {
            api.UseExceptionHandler();
            api.UseStatusCodePages();
        });
        app.UseWhen(context => !ApiEndpoints.IsApiRequest(context), pages =>
        {
            // Status pages outside the exception handler: a request that could not be bound (a 400 with no body from
            // ApiBadRequests, since binding throws) still gets the not-found page it always got.
            pages.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
            if (!app.Environment.IsDevelopment())
            {
                pages.UseExceptionHandler("/Error", createScopeForErrors: true);
            }
        });
        app.UseSecurityHeaders();
        // The content root's wwwroot (app-owned files; the repository root in development) is served before
        // authorization, so it stays public. Named explicitly: in development the web root provider is
        // replaced by the static web assets manifest, which knows only the project's own (absent) wwwroot.
        var webRoot = Path.Combine(app.Environment.ContentRootPath, "wwwroot");
        if (Directory.Exists(webRoot))
        {
            app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(webRoot) });
        }
        // Routing after static files: a development-time catch-all of MapStaticAssets must not shadow them.
        app.UseRouting();
        app.UseApiRouteMisses();
        // The account a sign-in or register form names, for the per-account limit; then the limits themselves.
        app.UseAccountFormKeys();
        app.UseApiRequestLimits();
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseTwoFactorEnrolment();
        app.UseAuthorization();
        app.UseAntiforgery();
        return app;
    }

    /// <summary>Maps framework and MudBlazor assets, the components, account endpoints and <c>/health</c>.</summary>
    public static WebApplication MapStudioEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapStaticAssets().AllowAnonymous();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        app.MapAccountEndpoints();
        app.MapExternalLoginEndpoints();
        app.MapHealthEndpoint();
        app.MapImageEndpoints();
        app.MapGalleryEndpoints();
        app.MapStudioApi();

        // Remote workers: the hub, on its own worker-key policy (not the cookie fallback).
        app.MapWorkerHub();

        // Metrics (issue 20): /metrics, admins only, 404 when Telemetry:Prometheus is off.
        app.MapStudioMetrics();
        return app;
    }
}
